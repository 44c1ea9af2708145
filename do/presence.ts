import { pushFrame } from '../rpc/frame.js';
import { MAX_PUSH_FRAME_BYTES, packBySize, utf8Length } from './frame-size.js';

/**
 * Presence announcements, coalesced. When many sockets join or leave close together (a deploy, a
 * reconnect storm), announcing each change to everyone as its own frame costs N² frames. Instead the
 * room queues each `session:connected` / `session:disconnected` call and sends the queue as one frame
 * a short moment later — or at once, before any other event, so nothing ever overtakes presence.
 *
 * A socket that joined while the queue was filling already got a `session:list` that includes the
 * changes before it, so it gets only the changes queued after its list, less its own join: every
 * socket hears of every change exactly once. Each distinct frame is serialized once.
 *
 * A storm can queue hundreds of changes within one delay; they go out in order, in as many frames of
 * at most `maxFrameBytes` as they need (see {@link MAX_PUSH_FRAME_BYTES} for why frames stay small).
 *
 * In window presence most changes only say the room's new counts, and every later change says them
 * again: such a change (`countOnly`) is sent to a socket only when it is the last the socket hears in
 * this delay. A storm of N joins then costs each member one small frame per delay, not N messages.
 */
export class PresenceQueue {
	/** Encoded capnweb `push` messages, in order. */
	#pending: string[] = [];
	/** Which of `#pending` only carry counts that any later message carries too. */
	#countOnly: boolean[] = [];
	/** Socket → what of `#pending` it must hear: from where (it was listed mid-queue), and which
	 * one to skip (its own join). */
	#joiners = new Map<WebSocket, { from: number; self: number }>();
	#timer: ReturnType<typeof setTimeout> | undefined;

	constructor(
		/** Milliseconds to wait for more changes; 0 sends each change at once. */
		readonly delayMs: number,
		/** Sends the queue now; called when the delay is up. */
		readonly onDue: () => void,
		/** Largest frame `drain` builds, in UTF-8 bytes (one change larger than this goes alone). */
		readonly maxFrameBytes = MAX_PUSH_FRAME_BYTES,
	) {}

	get empty(): boolean {
		return this.#pending.length === 0;
	}

	/** `ws` has just been sent a session list reflecting every change queued so far. */
	listed(ws: WebSocket): void {
		this.#joiners.set(ws, { from: this.#pending.length, self: -1 });
	}

	/**
	 * Queues a change; `joiner` is the socket it announces joining (it does not hear of itself).
	 * `countOnly`: the message says nothing a later one will not say again (see the class comment).
	 */
	add(message: string, joiner?: WebSocket, countOnly = false): void {
		const entry = joiner && this.#joiners.get(joiner);
		if (entry) entry.self = this.#pending.length;
		this.#pending.push(message);
		this.#countOnly.push(countOnly);
		if (this.delayMs <= 0) return this.onDue();
		this.#timer ??= setTimeout(() => {
			this.#timer = undefined;
			this.onDue();
		}, this.delayMs);
	}

	/**
	 * Empties the queue: sends each socket the frames of the changes it has not heard of, in order.
	 * `send` returns false for a dead socket; those are returned (and sent nothing more).
	 */
	drain(sockets: Iterable<WebSocket>, send: (ws: WebSocket, frame: string) => boolean): WebSocket[] {
		clearTimeout(this.#timer);
		this.#timer = undefined;
		const pending = this.#pending;
		const countOnly = this.#countOnly;
		const joiners = this.#joiners;
		this.#pending = [];
		this.#countOnly = [];
		this.#joiners = new Map();
		const sizes = pending.map(utf8Length);
		// Everyone but this delay's joiners hears the whole queue: those frames are built once.
		let whole: string[] | undefined;
		const dead: WebSocket[] = [];
		for (const ws of sockets) {
			const joiner = joiners.get(ws);
			const frames = joiner ? this.#pack(pending, sizes, countOnly, joiner.from, joiner.self) : (whole ??= this.#pack(pending, sizes, countOnly, 0, -1));
			for (const frame of frames) {
				if (send(ws, frame)) continue;
				dead.push(ws);
				break;
			}
		}
		return dead;
	}

	/**
	 * Groups the messages from `from` on, less `self` and less count-only ones said again later, in
	 * order, into push frames of at most `maxFrameBytes`.
	 */
	#pack(messages: readonly string[], sizes: readonly number[], countOnly: readonly boolean[], from: number, self: number): string[] {
		// A push frame is `e\n` followed by its messages, one `\n` between each two.
		return packBySize(unheard(messages.length, countOnly, from, self), (i) => sizes[i]!, 1, this.maxFrameBytes).map((run) =>
			pushFrame(run.map((i) => messages[i]!)),
		);
	}
}

/** The indices `from`…`length - 1`, less `self`, less count-only ones before the last of those. */
function* unheard(length: number, countOnly: readonly boolean[], from: number, self: number): Generator<number> {
	const last = self === length - 1 ? length - 2 : length - 1;
	for (let i = from; i < length; i++) if (i !== self && !(countOnly[i] && i < last)) yield i;
}
