/**
 * The `session:list` a joining socket gets, built from cached pieces and sent in frames of a few KB.
 *
 * Encoding the whole roster for every join (superjson, then JSON, over every session) made a
 * join cost O(N) encoder work and a connect storm O(N²). A session's public info never changes while
 * it is connected, so each entry is encoded once, by the real encoder, and a list is joined from
 * those strings.
 *
 * One frame holding the whole roster is also costly after it is sent: workerd keeps per-socket
 * buffers sized by the largest frame it ever sent that socket, so the 1000th joiner of a room would
 * hold ~130 KB for as long as it stays. The list therefore goes out in parts of at most
 * {@link MAX_PUSH_FRAME_BYTES}: each part is a `session:list` event whose payload is
 * `{ sessions, more: true }`, the last one without `more` (see `SessionListPart`); the client merges
 * them into the one `session:list` apps see.
 */
import { eventsFrame } from '../rpc/frame.js';
import type { PresenceWindow, Session, SessionInfo } from '../rpc/types.js';
import { MAX_PUSH_FRAME_BYTES, packBySize, utf8Length } from './frame-size.js';
import { ListMessage, type ListItem } from './list-message.js';
import type { SessionState } from './sessions.js';

/** `session:list` as a whole list, and as a part followed by more (`more: true`). Items read the same in both. */
const LIST = new ListMessage<SessionInfo<unknown>>('session:list', (sessions) => ({ sessions }));
const MORE = new ListMessage<SessionInfo<unknown>>('session:list', (sessions) => ({ sessions, more: true }));

/** One session's share of a list. */
interface Entry extends ListItem {
	info: SessionInfo<unknown>;
}

/** Bytes a part adds on top of its entries and their commas: the frame's fixed ends. */
const PART_OVERHEAD = utf8Length(eventsFrame([''])) + MORE.overhead;

/**
 * Builds `session:list` frames from encoded entries it caches per session. Entries are keyed by
 * the session object, weakly: one goes when its session leaves the room (nothing else holds it), and
 * a room constructed again after eviction starts empty and encodes each restored session again the
 * first time a list needs it.
 *
 * Joined parts equal the encoder's output as long as no two sessions' metas share an object
 * (superjson would record that as a referential equality across entries). They never do in a room:
 * each session's meta is parsed from its own handoff header or attachment.
 */
export class Roster<Meta> {
	readonly #entries = new WeakMap<Session<Meta>, Entry>();
	/**
	 * The parts the last full list started with, rendered: sessions only join at the end of the
	 * room's order, so the next joiner's list starts with the same parts and only its tail is built
	 * again (see {@link frames}). Every cached part is followed by more in its list. Costs one copy
	 * of the list's text (~0.1 KiB per session); a part holding a session that left is dropped by
	 * the next list.
	 */
	#parts: CachedPart<Meta>[] = [];

	constructor(
		/** Largest frame to build, in UTF-8 bytes; see {@link MAX_PUSH_FRAME_BYTES}. */
		readonly maxFrameBytes = MAX_PUSH_FRAME_BYTES,
	) {}

	/**
	 * The frames that carry these sessions, in order, as `session:list` parts: each at most
	 * `maxFrameBytes` unless one entry alone is larger. Every part but the last has `more: true`.
	 * Each frame equals what the encoder makes of that part's payload.
	 */
	frames(states: Iterable<SessionState<Meta>>): string[] {
		const sessions = Array.from(states, (state) => state.session);
		const frames: string[] = [];
		// Parts are packed greedily from the list's start, so a cached part is what packing would
		// make again as long as it holds the same sessions and the session after it still does not fit.
		let from = 0;
		let reused = 0;
		for (const part of this.#parts) {
			const end = from + part.sessions.length;
			if (end >= sessions.length || !part.sessions.every((session, i) => session === sessions[from + i])) break;
			if (part.bytes + this.#entry(sessions[end]!).bytes + 1 <= this.maxFrameBytes) break;
			frames.push(part.frame);
			from = end;
			reused++;
		}
		this.#parts.length = reused;
		const parts = packBySize(sessions.slice(from), (session) => this.#entry(session).bytes, PART_OVERHEAD, this.maxFrameBytes);
		// An empty room still sends one (empty) list.
		if (parts.length === 0) parts.push([]);
		let caching = true;
		parts.forEach((part, i) => {
			const more = i < parts.length - 1;
			const entries = part.map((session) => this.#entry(session));
			const rendered = this.#render(entries, more ? MORE : LIST);
			frames.push(...rendered);
			// Only a part followed by more, in one frame of its own, reads the same in a longer list.
			caching &&= more && rendered.length === 1;
			if (caching) this.#parts.push({ sessions: part, frame: rendered[0]!, bytes: entries.reduce((n, e) => n + e.bytes + 1, PART_OVERHEAD) });
		});
		return frames;
	}

	/**
	 * Window presence: the window's sessions as `session:list` parts like {@link frames}, the last one
	 * carrying `window` (the counts and where paging goes on). Every joiner gets one, so it is pasted
	 * from the cached entries too: only the small `window` is encoded per join.
	 */
	windowFrames(sessions: Iterable<Session<Meta>>, window: PresenceWindow): string[] {
		const entries = Array.from(sessions, (session) => this.#entry(session));
		// Room in every part for the `window` the last one carries.
		const windowBytes = utf8Length(JSON.stringify({ window })) + 8;
		const parts = packBySize(entries, (e) => e.bytes, PART_OVERHEAD + windowBytes, this.maxFrameBytes);
		const last = parts.pop() ?? [];
		// `window` before `sessions`: the list is then the payload's last array, where ListMessage pastes.
		const withWindow = new ListMessage<SessionInfo<unknown>>('session:list', (items) => ({ window, sessions: items }));
		return [...parts.flatMap((p) => this.#render(p, MORE)), ...this.#render(last, withWindow)];
	}

	/**
	 * One part's frame as `message`; more than one only when an annotated part had to be split to
	 * fit (then every frame but the last is a part with `more: true`).
	 */
	#render(part: Entry[], message: ListMessage<SessionInfo<unknown>>): string[] {
		if (part.every((e) => e.plain)) return [eventsFrame([message.join(part)])];
		const frame = eventsFrame([message.encode(part.map((e) => e.info))]);
		// Annotation paths grow with the index, so the estimate can fall short: halve until it fits.
		if (part.length === 1 || utf8Length(frame) <= this.maxFrameBytes) return [frame];
		const half = Math.ceil(part.length / 2);
		return [...this.#render(part.slice(0, half), MORE), ...this.#render(part.slice(half), message)];
	}

	#entry(session: Session<Meta>): Entry {
		let entry = this.#entries.get(session);
		if (!entry) {
			const info = { ws_session_id: session.ws_session_id, meta: session.meta };
			entry = { info, ...LIST.item(info) };
			this.#entries.set(session, entry);
		}
		return entry;
	}
}

/** A rendered `session:list` part (with `more: true`) and what it was made of. */
interface CachedPart<Meta> {
	sessions: Session<Meta>[];
	frame: string;
	/** What packing counted for it: the frame's ends, and each entry with its separator. */
	bytes: number;
}
