/**
 * `createWebsocketHandle`: the SvelteKit `Handle` that lets a browser into a room.
 *
 * A WebSocket upgrade is the one request where the browser's word counts for nothing and the
 * handle's for everything: the room trusts the `{room, meta}` it is handed completely, keeps it in
 * the socket's attachment for the socket's whole life, and shows it to everyone in the room. So the
 * handle refuses, with a clear JSON body and before anything reaches the room's Durable Object:
 *
 * | status | code | when |
 * |---|---|---|
 * | 426 | `upgrade_required` | a request to `path` that is not a WebSocket upgrade |
 * | 403 | `origin_not_allowed` | `Origin` missing or not allowed (cross-site WebSocket hijacking) |
 * | 400 | `bad_room` | `?room=` missing, repeated, empty, too long or with control characters |
 * | 401 ¹ | `unauthorized` | `authorize` returned nothing (nobody signed in) |
 * | 403 ¹ (or any) | `forbidden` (or the thrown `code`) | `authorize` threw SvelteKit's `error(…)` |
 * | 503 | `server_unavailable` | `getServer` returned no namespace |
 * | 500 | `internal_error` | `authorize` or `getServer` threw something else (logged) |
 * | 502 | `room_unavailable` | the room's Durable Object could not be reached (logged) |
 *
 * ¹ A browser never sees an upgrade's HTTP status, so on workerd these two are delivered as a socket
 * accepted and closed at once with 4401 / 4403 and `"<code>: <message>"` as the reason: the client
 * stops retrying and reports why (see `authRefusal`). The room is never involved.
 *
 * and otherwise forwards the upgrade to the room's Durable Object with `{room, meta}` in the handoff
 * header, which only the handle writes (a copy sent by the browser is replaced).
 */
import { isHttpError, type Handle, type RequestEvent } from '@sveltejs/kit';
import type { AuthSessionMeta } from '../rpc/types.js';
import { authorizeFromAuthLocals, type Authorize } from './authorize.js';
import { handOff, type RoomNamespace } from './handoff.js';
import { originChecker, type AllowedOrigins } from './origin.js';
import { authRefusal, codeForStatus, refusal } from './refusal.js';
import { DEFAULT_MAX_ROOM_LENGTH, readRoom } from './room.js';

/** The path the client connects to by default. */
export const DEFAULT_WEBSOCKET_PATH = '/api/websocket';

export interface WebsocketHandleOptions<Meta extends object = AuthSessionMeta> {
	/**
	 * The rooms' Durable Object namespace, usually `event.platform.env.WS` (any binding name works).
	 * Called only for upgrades that were authorized. Return nothing when it is not bound (503).
	 */
	getServer: (event: RequestEvent) => RoomNamespace | null | undefined;

	/**
	 * The pathname whose WebSocket upgrades this handle takes (exact match). Every other request goes
	 * to `resolve` untouched. @default '/api/websocket'
	 */
	path?: string;

	/**
	 * Who may join which room, and with what metadata. @default {@link authorizeFromAuthLocals}:
	 * `@delightstack/auth` locals, a room per organisation the user belongs to
	 */
	authorize?: Authorize<Meta>;

	/**
	 * Origins whose pages may open sockets besides the app's own, which is always allowed; see
	 * {@link AllowedOrigins}. @default none
	 */
	allowedOrigins?: AllowedOrigins;

	/** Longest room name accepted, in characters. @default 256 */
	maxRoomLength?: number;
}

/**
 * Creates the handle. Put it in `hooks.server.ts`, after the handle that signs users in (it reads
 * `event.locals`):
 *
 * ```ts
 * import { sequence } from '@sveltejs/kit/hooks';
 * import { createWebsocketHandle } from '@delightstack/websocket/server';
 *
 * export const handle = sequence(
 *   authHandle,
 *   createWebsocketHandle({ getServer: (event) => event.platform?.env.WS }),
 * );
 * ```
 *
 * With your own auth, decide the room's metadata yourself:
 *
 * ```ts
 * createWebsocketHandle<{ user_id: string; role: string }>({
 *   getServer: (event) => event.platform?.env.WS,
 *   async authorize(event, room) {
 *     const user = await getUser(event.cookies);
 *     if (!user) return;                              // 401
 *     if (!user.rooms.includes(room)) error(403, 'Not your room');
 *     return { meta: { user_id: user.id, role: user.role } };
 *   },
 * });
 * ```
 */
export function createWebsocketHandle<Meta extends object = AuthSessionMeta>(options: WebsocketHandleOptions<Meta>): Handle {
	const path = options.path ?? DEFAULT_WEBSOCKET_PATH;
	if (!path.startsWith('/')) throw new TypeError(`createWebsocketHandle: path must start with "/", got "${path}"`);
	const maxRoomLength = options.maxRoomLength ?? DEFAULT_MAX_ROOM_LENGTH;
	if (!Number.isInteger(maxRoomLength) || maxRoomLength < 1) {
		throw new TypeError(`createWebsocketHandle: maxRoomLength must be a positive integer, got ${maxRoomLength}`);
	}
	// Without a custom `authorize`, Meta is the default's AuthSessionMeta (the type parameter's default).
	const authorize = options.authorize ?? (authorizeFromAuthLocals as unknown as Authorize<Meta>);
	const originAllowed = originChecker(options.allowedOrigins);

	return async ({ event, resolve }) => {
		if (event.url.pathname !== path) return resolve(event);

		if (!isWebSocketUpgrade(event.request)) {
			return refusal(426, 'upgrade_required', `${path} only accepts WebSocket upgrades (GET with "Upgrade: websocket")`, {
				upgrade: 'websocket',
			});
		}
		if (!originAllowed(event)) {
			const origin = event.request.headers.get('origin');
			return refusal(
				403,
				'origin_not_allowed',
				origin === null
					? 'WebSocket upgrades must carry an Origin header'
					: `Pages from ${origin} may not open sockets here; add it to allowedOrigins if they should`,
			);
		}

		const requested = readRoom(event.url, maxRoomLength);
		if ('problem' in requested) return refusal(400, 'bad_room', requested.problem);
		const { room } = requested;

		let meta: Meta;
		try {
			const allowed = await authorize(event, room);
			if (allowed === null || allowed === undefined) {
				return authRefusal(401, 'unauthorized', 'Sign in to join this room');
			}
			if (!isPlainObject(allowed.meta)) {
				console.error('createWebsocketHandle: authorize must return { meta } with meta a plain object; got', allowed);
				return refusal(500, 'internal_error', 'The server could not authorize this socket');
			}
			meta = allowed.meta;
		} catch (thrown) {
			if (isHttpError(thrown)) return fromHttpError(thrown);
			console.error('createWebsocketHandle: authorize threw', thrown);
			return refusal(500, 'internal_error', 'The server could not authorize this socket');
		}

		let rooms: RoomNamespace | null | undefined;
		try {
			rooms = options.getServer(event);
		} catch (thrown) {
			console.error('createWebsocketHandle: getServer threw', thrown);
			return refusal(500, 'internal_error', 'The server could not find its rooms');
		}
		if (!rooms) {
			return refusal(503, 'server_unavailable', 'Rooms are not available: getServer returned no Durable Object namespace');
		}

		try {
			return await handOff(rooms, event.request, { room, meta });
		} catch (thrown) {
			console.error(`createWebsocketHandle: the Durable Object of room "${room}" could not be reached`, thrown);
			return refusal(502, 'room_unavailable', 'The room could not be reached; try again');
		}
	};
}

/** A WebSocket opening handshake: a GET whose `Upgrade` header lists `websocket`. */
function isWebSocketUpgrade(request: Request): boolean {
	if (request.method !== 'GET') return false;
	const upgrade = request.headers.get('upgrade');
	return upgrade !== null && upgrade.split(',').some((token) => token.trim().toLowerCase() === 'websocket');
}

/** `error(status, body)` thrown by `authorize`: its status, and its message (and `code`, if the body has one). */
function fromHttpError(thrown: { status: number; body: App.Error }): Response {
	const body = thrown.body as { message?: unknown; code?: unknown };
	const code = typeof body.code === 'string' && body.code !== '' ? body.code : codeForStatus(thrown.status);
	const message = typeof body.message === 'string' ? body.message : `Refused (${thrown.status})`;
	return authRefusal(thrown.status, code, message);
}

/** JSON-shaped metadata: the room stores it as JSON and refuses anything else. */
function isPlainObject(value: unknown): boolean {
	if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
	const proto = Object.getPrototypeOf(value);
	return proto === Object.prototype || proto === null;
}
