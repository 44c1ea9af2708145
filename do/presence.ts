import { eventLine, eventsFrame } from '../rpc/frame.js';
import { encodePayload } from '../rpc/payload.js';
import type { SessionChange } from '../rpc/protocol.js';
import { MAX_PUSH_FRAME_BYTES, packBySize, utf8Length } from './frame-size.js';
import { ListMessage } from './list-message.js';

/**
 * Presence announcements, coalesced. When many sockets join or leave close together (a deploy, a
 * reconnect storm), announcing each change to everyone as its own frame costs N² frames. Instead the
 * room queues each change and sends the queue as one frame a short moment later — or at once,
 * before any other event, so nothing ever overtakes presence.
 *
 * Full presence's joins and leaves that go out together are one `session:changes` event (see
 * `SessionChanges`), not one `session:connected` / `session:disconnected` call each: a frame of 60
 * changes is then one message for the client to read and dispatch, where 60 calls cost it 60. Each
 * change is encoded once ({@link ListMessage}); a frame pastes them together.
 *
 * A socket that joined while the queue was filling already got a `session:list` that includes the
 * changes before it, so it gets only the changes queued after its list, less its own join: every
 * socket hears of every change exactly once. Each distinct frame is built once.
 *
 * A storm can queue hundreds of changes within one delay; they go out in order, in as many frames of
 * at most `maxFrameBytes` as they need (see {@link MAX_PUSH_FRAME_BYTES} for why frames stay small).
 *
 * In window presence most changes only say the room's new counts, and every later change says them
 * again: such a change (`countOnly`) is sent to a socket only when it is the last the socket hears in
 * this delay. A storm of N joins then costs each member one small frame per delay, not N messages.
 *
 * Counts also wait longer the bigger the room ({@link countsDelayMs}): every flush of counts is a
 * frame to each socket, so at one flush per 50 ms a room of 10,000 sockets whose members come and go
 * would send 200,000 frames a second to say a number. Anything else queued (a member entering the
 * window, a leave, a full-presence change) still goes within `delayMs`, and takes the counts along.
 */
export class PresenceQueue {
	/** What is queued, in order. */
	#pending: Pending[] = [];
	/** Where in `#pending` the messages that are not count-only stand, in order (see {@link heardBy}). */
	#said: number[] = [];
	/** Socket → what of `#pending` it must hear: from where (it was listed mid-queue), and which
	 * one to skip (its own join). */
	#joiners = new Map<WebSocket, Listener>();
	#timer: ReturnType<typeof setTimeout> | undefined;
	/** When `#timer` fires (`Date.now()` time). */
	#dueAt = 0;

	constructor(
		/** Milliseconds to wait for more changes; 0 sends each change at once. */
		readonly delayMs: number,
		/** Sends the queue now; called when the delay is up. */
		readonly onDue: () => void,
		/** How many sockets hear a flush now: how long counts may wait ({@link countsDelayMs}). */
		readonly audience: () => number = () => 0,
		/** Largest frame `drain` builds, in UTF-8 bytes (one change larger than this goes alone). */
		readonly maxFrameBytes = MAX_PUSH_FRAME_BYTES,
	) {}

	get empty(): boolean {
		return this.#pending.length === 0;
	}

	/** `ws` has just been sent a session list reflecting every change queued so far. */
	listed(ws: WebSocket): void {
		this.#joiners.set(ws, { from: this.#pending.length, saidFrom: this.#said.length, self: -1 });
	}

	/**
	 * Queues a join or leave of full presence; `joiner` is the socket whose join it is (it does not
	 * hear of itself). Goes out inside a `session:changes` with the changes next to it in its frame,
	 * or as the `session:connected` / `session:disconnected` it is when it has none.
	 */
	change(change: SessionChange<unknown>, joiner?: WebSocket): void {
		const item = CHANGES.item(change);
		// One that cannot be pasted (superjson annotations) always goes as its own event.
		if (!item.plain) return this.add(alone(change), joiner);
		this.#queue({ text: item.text, bytes: item.bytes, change, countOnly: false }, joiner);
	}

	/**
	 * Queues a message (window presence's `session:update`), sent as it is; `joiner` as for
	 * {@link change}. `countOnly`: it says nothing a later one will not say again (see the class comment).
	 */
	add(message: string, joiner?: WebSocket, countOnly = false): void {
		this.#queue({ text: message, bytes: utf8Length(message), countOnly }, joiner);
	}

	#queue(pending: Pending, joiner: WebSocket | undefined): void {
		const entry = joiner && this.#joiners.get(joiner);
		if (entry) entry.self = this.#pending.length;
		if (!pending.countOnly) this.#said.push(this.#pending.length);
		this.#pending.push(pending);
		if (this.delayMs <= 0) return this.onDue();
		this.#flushWithin(pending.countOnly ? Math.max(this.delayMs, countsDelayMs(this.audience())) : this.delayMs);
	}

	/** Makes sure the queue goes out within `ms`: a timer due later is brought forward. */
	#flushWithin(ms: number): void {
		const dueAt = Date.now() + ms;
		if (this.#timer !== undefined && this.#dueAt <= dueAt) return;
		clearTimeout(this.#timer);
		this.#dueAt = dueAt;
		this.#timer = setTimeout(() => {
			this.#timer = undefined;
			this.onDue();
		}, ms);
	}

	/**
	 * Empties the queue: sends each socket the frames of the changes it has not heard of, in order.
	 * `send` returns false for a dead socket; those are returned (and sent nothing more).
	 */
	drain(sockets: Iterable<WebSocket>, send: (ws: WebSocket, frame: string) => boolean): WebSocket[] {
		clearTimeout(this.#timer);
		this.#timer = undefined;
		const pending = this.#pending;
		const said = this.#said;
		const joiners = this.#joiners;
		this.#pending = [];
		this.#said = [];
		this.#joiners = new Map();
		// Everyone but this delay's joiners hears the whole queue: those frames are built once.
		let whole: string[] | undefined;
		// In a storm of counts most joiners hear one message, the last counts: its frame is built once.
		const lone = new Map<Pending, string[]>();
		const joinerFrames = (joiner: Listener): string[] => {
			const heard = heardBy(pending, said, joiner);
			if (heard.length !== 1) return this.#pack(heard);
			let frames = lone.get(heard[0]!);
			if (!frames) lone.set(heard[0]!, (frames = this.#pack(heard)));
			return frames;
		};
		const dead: WebSocket[] = [];
		for (const ws of sockets) {
			const joiner = joiners.get(ws);
			const frames = joiner ? joinerFrames(joiner) : (whole ??= this.#pack(heardBy(pending, said, EVERYTHING)));
			for (const frame of frames) {
				if (send(ws, frame)) continue;
				dead.push(ws);
				break;
			}
		}
		return dead;
	}

	/**
	 * Groups what a socket hears ({@link heardBy}), in order, into push frames of at most
	 * `maxFrameBytes`; changes next to each other in a frame become one `session:changes`, and a
	 * change with no neighbour goes as its own event (a quiet room's joins: the shorter message).
	 */
	#pack(heard: readonly Pending[]): string[] {
		// An events frame is `v\n` followed by its messages, one `\n` between each two. Sizes are an upper
		// bound: every message may split the changes around it into two `session:changes`, and a change
		// alone is shorter as its own event than inside one.
		const size = (p: Pending) => (p.change ? p.bytes : p.bytes + CHANGES.overhead);
		const runs = packBySize(heard, size, FRAME_OVERHEAD, this.maxFrameBytes);
		return runs.map((run) => {
			const messages: string[] = [];
			let changes: Pending[] = [];
			for (const p of run) {
				if (p.change) {
					changes.push(p);
					continue;
				}
				if (changes.length > 0) messages.push(joined(changes));
				changes = [];
				messages.push(p.text);
			}
			if (changes.length > 0) messages.push(joined(changes));
			return eventsFrame(messages);
		});
	}
}

/**
 * Count frames a room sends per second at most, whatever its size: a flush of counts every
 * `sockets / COUNT_FRAMES_PER_SECOND` seconds. About what a Durable Object sends without noticing
 * (~20 µs of CPU each, 2 % of a core).
 */
export const COUNT_FRAMES_PER_SECOND = 1000;

/** The longest counts wait (a room of 5,000 sockets or more), so `ws.presence.count` is never older than this. */
export const MAX_COUNTS_DELAY_MS = 5000;

/** How long a count-only change may wait for others when `sockets` will hear it. */
export function countsDelayMs(sockets: number): number {
	return Math.min(MAX_COUNTS_DELAY_MS, (sockets * 1000) / COUNT_FRAMES_PER_SECOND);
}

/** What the queue holds of one change. */
interface Pending {
	/** A join or leave as it appears inside `session:changes` (`change`), or a whole message. */
	text: string;
	/** UTF-8 bytes of `text`. */
	bytes: number;
	/** A join or leave (else `text` is a message sent as it is). */
	change?: SessionChange<unknown>;
	/** The change as its own event, once a frame needed it so. */
	alone?: string;
	/** Says nothing a later message will not say again (window presence's counts). */
	countOnly: boolean;
}

/** `session:changes`, the event that carries coalesced joins and leaves. */
const CHANGES = new ListMessage<SessionChange<unknown>>('session:changes', (changes) => ({ changes }));

/** Neighbouring changes as one message: one `session:changes`, or a lone change as the event it is. */
function joined(changes: Pending[]): string {
	const only = changes.length === 1 ? changes[0]! : undefined;
	return only ? (only.alone ??= alone(only.change!)) : CHANGES.join(changes);
}

/** A change as its own `session:connected` or `session:disconnected`. */
function alone(change: SessionChange<unknown>): string {
	return 'connected' in change
		? eventLine('session:connected', encodePayload(change.connected))
		: eventLine('session:disconnected', encodePayload(change.disconnected));
}

/** A frame's `v\n`, and the ends of one `session:changes` in it. */
const FRAME_OVERHEAD = utf8Length(eventsFrame([''])) + CHANGES.overhead;

/**
 * Where a socket stands in a queue: listed when `from` messages were queued, `saidFrom` of them not
 * count-only; `self` is its own join's place (-1: none queued).
 */
interface Listener {
	from: number;
	saidFrom: number;
	self: number;
}

/** A socket that was in the room before anything now queued: it hears all of it. */
const EVERYTHING: Listener = { from: 0, saidFrom: 0, self: -1 };

/**
 * What `listener` hears of the queue: everything queued since it was listed but its own join and the
 * count-only messages said again later. Of those it hears only the last one, the queue's last
 * message (or the one before, when the last is its own join), so the rest comes from `said` (where
 * the other messages stand): O(what it hears), not O(the queue), for each of a storm's joiners.
 */
function heardBy(pending: readonly Pending[], said: readonly number[], { from, saidFrom, self }: Listener): Pending[] {
	const last = self === pending.length - 1 ? pending.length - 2 : pending.length - 1;
	const heard: Pending[] = [];
	// None of these stands after `last` but `self`, so the last counts go at the end.
	for (let k = saidFrom; k < said.length; k++) if (said[k] !== self) heard.push(pending[said[k]!]!);
	if (last >= from && pending[last]!.countOnly) heard.push(pending[last]!);
	return heard;
}
