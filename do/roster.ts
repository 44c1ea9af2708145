/**
 * The `session:list` a joining socket gets, built from cached pieces and sent in frames of a few KB.
 *
 * Encoding the whole roster for every join (superjson, then capnweb, over every session) made a
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
import { eventMessage } from '../calls/batch.js';
import { pushFrame } from '../rpc/frame.js';
import { encodePayload } from '../rpc/payload.js';
import type { SessionListPart } from '../rpc/protocol.js';
import type { PresenceWindow, Session, SessionInfo } from '../rpc/types.js';
import { MAX_PUSH_FRAME_BYTES, packBySize, utf8Length } from './frame-size.js';
import type { SessionState } from './sessions.js';

/** One session's share of a list: its encoded entry, and whether it may be joined to others. */
interface Entry {
	info: SessionInfo<unknown>;
	/** capnweb's encoding of the entry's superjson `json`, exactly as it appears inside a list. */
	text: string;
	/** UTF-8 bytes of `text`, plus the annotations it needs when not `plain`. */
	bytes: number;
	/**
	 * superjson needed no annotations for it. Annotations are keyed by paths that hold the entry's
	 * index in the list (`sessions.7.meta.at`), so an annotated entry cannot be pasted into another
	 * list as it is; a part holding one is encoded whole instead (see {@link Roster.frames}). Meta
	 * comes from the handle as JSON, where only `-0` and numbers too large for a double need
	 * annotations, so this is the rare path.
	 */
	plain: boolean;
}

/** `["push",["pipeline",0,["event"],["session:list",{"json":{"sessions":[[` — derived, not typed out. */
const { head: HEAD, tail: TAIL } = frameEnds({ sessions: [] });
/** The same end for a part that is not the last: `]],"more":true}}]]]`. */
const { tail: MORE_TAIL } = frameEnds({ sessions: [], more: true });

/** Splits the encoder's own line for an empty list around its `[[]]`, so joined lists match it byte for byte. */
function frameEnds(data: SessionListPart<unknown>): { head: string; tail: string } {
	const line = listFrame(data);
	const at = line.lastIndexOf('[[]]');
	if (at < 0) throw new Error('Unexpected encoding of an empty session list');
	return { head: line.slice(0, at + 2), tail: line.slice(at + 2) };
}

/** The reference: what the room sent before lists were joined from cached entries. */
function listFrame(data: SessionListPart<unknown>): string {
	return pushFrame([eventMessage('session:list', encodePayload(data))]);
}

/** Bytes a part adds on top of its entries and their commas: the frame's fixed ends. */
const PART_OVERHEAD = utf8Length(HEAD) + utf8Length(MORE_TAIL);

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
			const rendered = this.#render(entries, more);
			frames.push(...rendered);
			// Only a part followed by more, in one frame of its own, reads the same in a longer list.
			caching &&= more && rendered.length === 1;
			if (caching) this.#parts.push({ sessions: part, frame: rendered[0]!, bytes: entries.reduce((n, e) => n + e.bytes + 1, PART_OVERHEAD) });
		});
		return frames;
	}

	/**
	 * Window presence: the window's sessions as `session:list` parts like {@link frames}, the last one
	 * carrying `window` (the counts and where paging goes on).
	 */
	windowFrames(sessions: Iterable<Session<Meta>>, window: PresenceWindow): string[] {
		const entries = Array.from(sessions, (session) => this.#entry(session));
		// Room in every part for the `window` the last one carries.
		const windowBytes = utf8Length(JSON.stringify({ window })) + 8;
		const parts = packBySize(entries, (e) => e.bytes, PART_OVERHEAD + windowBytes, this.maxFrameBytes);
		const last = parts.pop() ?? [];
		return [...parts.flatMap((p) => this.#render(p, true)), listFrame({ sessions: last.map((e) => e.info), window })];
	}

	/** One part's frame; more than one only when an annotated part had to be split to fit. */
	#render(part: Entry[], more: boolean): string[] {
		if (part.every((e) => e.plain)) {
			let body = '';
			for (let i = 0; i < part.length; i++) body += (i === 0 ? '' : ',') + part[i]!.text;
			return [HEAD + body + (more ? MORE_TAIL : TAIL)];
		}
		const sessions = part.map((e) => e.info);
		const frame = listFrame(more ? { sessions, more: true } : { sessions });
		// Annotation paths grow with the index, so the estimate can fall short: halve until it fits.
		if (part.length === 1 || utf8Length(frame) <= this.maxFrameBytes) return [frame];
		const half = Math.ceil(part.length / 2);
		return [...this.#render(part.slice(0, half), true), ...this.#render(part.slice(half), more)];
	}

	#entry(session: Session<Meta>): Entry {
		let entry = this.#entries.get(session);
		if (!entry) {
			entry = encodeEntry({ ws_session_id: session.ws_session_id, meta: session.meta });
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

/**
 * Encodes one entry as a one-entry list and cuts it out of the frame: the encoder itself decides
 * every byte (array escapes, string escapes, key order), at the same depth as in any list.
 */
function encodeEntry(info: SessionInfo<unknown>): Entry {
	const payload = encodePayload({ sessions: [info] });
	const frame = pushFrame([eventMessage('session:list', payload)]);
	const plain = payload.meta === undefined && frame.startsWith(HEAD) && frame.endsWith(TAIL);
	const text = plain ? frame.slice(HEAD.length, -TAIL.length) : '';
	// Unjoinable entries are sized by their whole frame: an estimate that includes their annotations.
	return { info, text, bytes: plain ? utf8Length(text) : utf8Length(frame) - PART_OVERHEAD, plain };
}
