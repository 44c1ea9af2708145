/**
 * The room's sessions, kept in each socket's attachment so they survive hibernation. The in-memory
 * map is only a cache of the attachments: a fresh instance rebuilds it from `getWebSockets()`, one
 * user's sockets at a time or the whole room at once (see `WebsocketServer`).
 */
import type { Session } from '../rpc/types.js';
import type { Backlog } from './backlog.js';
import { isUserBuckets, userKey, type UserBuckets } from './user-limits.js';

/** The platform refuses attachments larger than this. */
export const MAX_ATTACHMENT_BYTES = 16 * 1024;

/** Everything the room remembers about one socket. */
export interface SessionState<Meta> {
	session: Session<Meta>;
	/** The user's rate-limit buckets: one object shared by every socket of the user (see `UserLimits`). */
	limits: UserBuckets;
	/** When the socket last sent a frame (epoch ms); keep-alive pings are read from the runtime. */
	seen: number;
	/** Frames refused whole in a row; too many and the socket is closed. */
	refusals: number;
	/** What the socket may have left unread (memory only: see `backlog.ts`). */
	backlog: Backlog;
	/**
	 * Window presence: where the socket's member stands in the room's order (see `Members`), kept so
	 * a room built again after eviction puts every member back where it was.
	 */
	place?: Place;
}

/** A member's place in the room's order of arrival: its first socket's `connected_at` and id. */
export interface Place {
	at: number;
	first: string;
}

/** What a socket's attachment holds: its state but for what lives in memory only. */
interface Attachment<Meta> extends Omit<SessionState<Meta>, 'backlog'> {
	v: 2;
}

function attachment<Meta>(state: SessionState<Meta>): Attachment<Meta> {
	return { v: 2, session: state.session, limits: state.limits, seen: state.seen, refusals: state.refusals, place: state.place };
}

const SESSION_TAG = 's:';
const USER_TAG = 'u:';
// The platform limits a tag to 256 characters.
const MAX_TAG_LENGTH = 256;

/** Tags let `getWebSockets(tag)` find a session's or a user's sockets without waking every attachment. */
export function tagsFor(session: Session<unknown>): string[] {
	const tags = [SESSION_TAG + session.ws_session_id];
	const userId = (session.meta as { user_id?: unknown } | null)?.user_id;
	if (typeof userId === 'string' && USER_TAG.length + userId.length <= MAX_TAG_LENGTH) tags.push(USER_TAG + userId);
	return tags;
}

/**
 * The tag of every socket that shares `session`'s rate-limit buckets: its `userKey`, which is the
 * user's tag. Undefined when the session is a user of its own, null when the tag would be too long.
 */
export function userTagOf(session: Session<unknown>): string | null | undefined {
	const key = userKey(session);
	if (!key.startsWith(USER_TAG)) return undefined;
	return key.length <= MAX_TAG_LENGTH ? key : null;
}

export const sessionTag = (id: string) => SESSION_TAG + id;
export const userTag = (id: string) => USER_TAG + id;

/** The session id a socket was tagged with, readable even when its attachment is not. */
export function sessionIdFromTags(tags: string[]): string | undefined {
	return tags.find((t) => t.startsWith(SESSION_TAG))?.slice(SESSION_TAG.length);
}

/** How often an ordinary frame's state is written to the attachment at most (see `saveSoon`). */
const SAVE_EVERY_MS = 1_000;

export class SessionStore<Meta> {
	#bySocket = new Map<WebSocket, SessionState<Meta>>();
	/** When each socket's attachment was last written. */
	#savedAt = new WeakMap<WebSocket, number>();
	/** Sockets whose state changed since their attachment was written (see `saveSoon`). */
	#deferred = new Set<WebSocket>();
	#flushTimer: ReturnType<typeof setTimeout> | undefined;

	get size(): number {
		return this.#bySocket.size;
	}

	get(ws: WebSocket): SessionState<Meta> | undefined {
		return this.#bySocket.get(ws);
	}

	sockets(): IterableIterator<WebSocket> {
		return this.#bySocket.keys();
	}

	states(): IterableIterator<SessionState<Meta>> {
		return this.#bySocket.values();
	}

	/** Every socket with its state: a loop over the room without a lookup per socket. */
	entries(): IterableIterator<[WebSocket, SessionState<Meta>]> {
		return this.#bySocket.entries();
	}

	/**
	 * Registers an accepted socket. Its attachment was written with {@link save} before it was
	 * accepted, so a socket whose attachment the platform refuses is never registered.
	 */
	add(ws: WebSocket, state: SessionState<Meta>): void {
		this.#bySocket.set(ws, state);
	}

	/** Persists a changed state (spent tokens, refusals) so it survives eviction. */
	save(ws: WebSocket, state: SessionState<Meta>, now = Date.now()): void {
		ws.serializeAttachment(attachment(state));
		this.#savedAt.set(ws, now);
	}

	/**
	 * Persists a state changed by an ordinary frame: at once when `urgent` or when the socket's
	 * attachment was not written in the last {@link SAVE_EVERY_MS}; otherwise the write is deferred
	 * to one timer that writes every deferred socket. Writing the attachment was a large share of a
	 * call's cost in the room; a busy socket now pays for it once a second. The timer keeps the room
	 * awake until it has run, so eviction never loses a spend.
	 */
	saveSoon(ws: WebSocket, state: SessionState<Meta>, now: number, urgent: boolean): void {
		if (urgent || now - (this.#savedAt.get(ws) ?? 0) >= SAVE_EVERY_MS) {
			this.#deferred.delete(ws);
			this.save(ws, state, now);
			return;
		}
		this.#deferred.add(ws);
		this.#flushTimer ??= setTimeout(() => this.#flush(), SAVE_EVERY_MS);
	}

	#flush(): void {
		this.#flushTimer = undefined;
		const now = Date.now();
		for (const ws of this.#deferred) {
			const state = this.#bySocket.get(ws);
			if (!state) continue;
			try {
				this.save(ws, state, now);
			} catch {
				// A socket closing as we write: its state goes with it.
			}
		}
		this.#deferred.clear();
	}

	/** Removes a socket; returns its state only the first time, so each session is announced once. */
	remove(ws: WebSocket): SessionState<Meta> | undefined {
		const state = this.#bySocket.get(ws);
		if (state) this.#bySocket.delete(ws);
		this.#deferred.delete(ws);
		return state;
	}

	/**
	 * Reads the attachments of `sockets` the map does not hold yet (after eviction, the runtime kept
	 * them open while this instance did not exist) and adds their states. `added`: the states read;
	 * `corrupt`: the sockets whose attachment could not be read. Call {@link sortByArrival} once the
	 * map holds the whole room.
	 */
	restore(sockets: Iterable<WebSocket>): { added: SessionState<Meta>[]; corrupt: WebSocket[] } {
		const added: SessionState<Meta>[] = [];
		const corrupt: WebSocket[] = [];
		// Each state is its attachment, as good as written now: the first frame after a wake-up defers
		// its write like any other (see `saveSoon`) instead of paying for one on the room's cold path.
		const now = Date.now();
		for (const ws of sockets) {
			if (this.#bySocket.has(ws) || ws.readyState !== WebSocket.OPEN) continue;
			const state = readAttachment<Meta>(ws);
			if (!state) {
				corrupt.push(ws);
				continue;
			}
			this.#bySocket.set(ws, state);
			this.#savedAt.set(ws, now);
			added.push(state);
		}
		return { added, corrupt };
	}

	/** Puts the map in join order (presence lists are); the runtime returns sockets in no particular order. */
	sortByArrival(): void {
		const all = [...this.#bySocket].sort(([, x], [, y]) => x.session.connected_at - y.session.connected_at);
		this.#bySocket.clear();
		for (const [ws, state] of all) this.#bySocket.set(ws, state);
	}
}

function readAttachment<Meta>(ws: WebSocket): SessionState<Meta> | undefined {
	let found: unknown;
	try {
		found = ws.deserializeAttachment();
	} catch {
		return undefined;
	}
	if (!isAttachment<Meta>(found)) return undefined;
	const { session, limits, seen, refusals, place } = found;
	return { session, limits, seen, refusals, backlog: { sent: 0, read: 0 }, place: isPlace(place) ? place : undefined };
}

function isPlace(value: unknown): value is Place {
	const place = value as Partial<Place> | null | undefined;
	return typeof place?.at === 'number' && typeof place.first === 'string';
}

function isAttachment<Meta>(value: unknown): value is Attachment<Meta> {
	if (!value || typeof value !== 'object') return false;
	const a = value as Partial<Attachment<Meta>>;
	return (
		a.v === 2 &&
		typeof a.session?.ws_session_id === 'string' &&
		typeof a.session.room === 'string' &&
		typeof a.session.connected_at === 'number' &&
		typeof a.seen === 'number' &&
		typeof a.refusals === 'number' &&
		isUserBuckets(a.limits)
	);
}
