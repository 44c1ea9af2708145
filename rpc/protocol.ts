/**
 * The two RPC surfaces that travel inside frames, and the names both ends agree on.
 *
 * Browser → room: the room's `RoomApi` class is the main object of each batch. Custom events from
 * `send(event, data)` are calls too, to {@link EVENT_METHOD}.
 *
 * Room → browser: events are not calls but lines of JSON in events frames (`frame.ts`); the
 * client's {@link ClientApi} is the main object of the other one-way batches.
 */
import type { AuthSessionMeta, RoomEvents } from './types.js';

/**
 * The reserved `RoomApi` method that carries `send(event, data)`. Not a valid identifier, so it
 * cannot collide with a method a room declares.
 */
export const EVENT_METHOD = '~event';

/**
 * The reserved `RoomApi` method that answers `ws.presence.more()` in window presence:
 * `(after: string, limit: number) => PresencePage`. Like {@link EVENT_METHOD}, no room can declare it.
 */
export const PRESENCE_METHOD = '~presence';

/** What the room calls on every connected client (as browsers call the room's `RoomApi`); events travel apart, in events frames. */
export interface ClientApi {
	/**
	 * The room is about to close this socket. Sent just before the close frame because a close
	 * issued outside a WebSocket event (from `fetch` or Workers RPC, e.g. `kick`) reaches the peer
	 * as a close frame, but local workerd may leave the TCP connection open, and a browser only
	 * fires `close` once TCP ends. The notice makes the close code reliable everywhere.
	 */
	closing(code: number, reason: string): void;
	/**
	 * The room asks for proof that this socket reads what it is sent: answer with an `a\n<nonce>`
	 * frame once everything before this call has been read (see `do/backlog.ts`). A socket that
	 * does not answer while the room sends it `maxUnreadBytes` more is closed (4409).
	 */
	confirm(nonce: string): void;
}

/**
 * The payload of one `session:list` event on the wire. A roster too large for one frame is sent as
 * several `session:list` events in a row, back to back: every one but the last carries
 * `more: true`. The client joins them and hands the app one `session:list` with every session
 * (`RoomEvents['session:list']`), so apps never see `more` or a partial list.
 */
export type SessionListPart<Meta = AuthSessionMeta> = RoomEvents<Meta>['session:list'] & { more?: true };

/**
 * The payload of one `session:changes` event on the wire: full presence's joins and leaves that the
 * room coalesced into one frame (`presenceBatchMs`), in order. The client hands the app each one as
 * the `session:connected` or `session:disconnected` it is, so apps never see `session:changes`.
 *
 * A change with no neighbour in its frame (a quiet room's join, every change with
 * `presenceBatchMs: 0`) still travels as its own `session:connected` / `session:disconnected`, the
 * shorter message; so does one whose meta needs superjson annotations, which name their index in a
 * list. A client reads both forms.
 */
export interface SessionChanges<Meta = AuthSessionMeta> {
	changes: SessionChange<Meta>[];
}

/** One join or leave in a {@link SessionChanges}. */
export type SessionChange<Meta = AuthSessionMeta> =
	{ connected: RoomEvents<Meta>['session:connected'] } | { disconnected: RoomEvents<Meta>['session:disconnected'] };

/** Name of the header through which the handle hands `{room, meta}` to the room. */
export const HANDOFF_HEADER = 'x-delightstack-ws-handoff';

/** The body of {@link HANDOFF_HEADER}: decided by the handle, never by the browser. */
export interface Handoff<Meta = unknown> {
	room: string;
	meta: Meta;
	/** A sharded room only: how many shards the handle believes the room has (see `rpc/shards.ts`). */
	shards?: number;
}

/**
 * Close codes the room uses. 4000–4999 are application codes; the client treats the terminal ones
 * as "do not reconnect".
 */
export const CloseCode = {
	/** A normal close requested by either side. */
	Normal: 1000,
	/** The socket kept sending frames the room refused (`maxRefusals` in a row). */
	PolicyViolation: 1008,
	/** The room failed to set the session up (a throwing `onConnect`, a corrupt attachment). */
	InternalError: 1011,
	/** `kick()` removed this session. Terminal. */
	Kicked: 4001,
	/** The session was not (or no longer) authorized. Terminal. */
	Unauthorized: 4401,
	/** The session may not join this room. Terminal. */
	Forbidden: 4403,
	/**
	 * The page's client speaks another wire version than the server (`rpc/wire-version.ts`; typically
	 * a tab opened before a deploy). Terminal: the page must be reloaded.
	 */
	VersionMismatch: 4426,
	/** Nothing was heard from the socket for `idleTimeoutMs`, not even a keep-alive ping. */
	Idle: 4408,
	/** The socket did not read what it was sent (`maxUnreadBytes` past an unanswered check). */
	NotReading: 4409,
	/** Too many sockets or connections from this user (`maxSocketsPerUser`, `connectRateLimit`). Retry later. */
	RateLimited: 4429,
	/** The room holds `maxSessions` sockets already. Retry later. */
	RoomFull: 4503,
} as const;

/**
 * Close codes after which a client must not reconnect on its own: `Kicked`, `Unauthorized`,
 * `Forbidden`, `VersionMismatch` (as numbers: fewer bytes in every page than their names).
 */
export const TERMINAL_CLOSE_CODES: ReadonlySet<number> = new Set([4001, 4401, 4403, 4426]);
