/**
 * `createWebsocketHandle`: the SvelteKit `Handle` that lets a browser into a room.
 *
 * A WebSocket upgrade is the one request where the browser's word counts for nothing and the
 * handle's for everything: the room trusts the `{room, meta}` it is handed completely, keeps it in
 * the socket's attachment for the socket's whole life, and shows it to everyone in the room. Every
 * check and refusal lives in `upgrade.ts` (shared with `handleUpgrade` for plain Workers); this
 * module only connects it to SvelteKit's `Handle` shape.
 */
import type { Handle, RequestEvent } from '@sveltejs/kit';
import type { AuthSessionMeta } from '../rpc/types.js';
import type { Authorize } from './authorize.js';
import type { RoomNamespace } from './handoff.js';
import type { AllowedOrigins } from './origin.js';
import { admitUpgrade, upgradeGate } from './upgrade.js';

export interface WebsocketHandleOptions<Meta extends object = AuthSessionMeta> {
	/**
	 * The rooms' Durable Object namespace, usually `event.platform?.env.WS` (any binding name works).
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
	 * `@delightstack/auth` locals, a room per organisation the user belongs to, meta
	 * `{user_id, user_name, permission}`
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
 *
 * Refusals are JSON `{status, code, message}`: 426 not an upgrade, 403 `Origin`, 400 room name,
 * 401/403 from `authorize` and 426 `version_mismatch` for a page of another deploy (on workerd, a
 * socket closed at once with 4401/4403/4426, which the client treats as final), 503/500/502 when
 * the room cannot be reached.
 */
export function createWebsocketHandle<Meta extends object = AuthSessionMeta>(options: WebsocketHandleOptions<Meta>): Handle {
	const gate = upgradeGate<Meta, RequestEvent>(options, 'createWebsocketHandle');
	return ({ event, resolve }) => {
		if (event.url.pathname !== gate.path) return resolve(event);
		return admitUpgrade(gate, event.request, event.url, event, () => options.getServer(event));
	};
}
