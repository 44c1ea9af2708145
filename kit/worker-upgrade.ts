/**
 * `handleUpgrade`: the handle's checks for a Worker that is not SvelteKit: a plain `fetch` handler,
 * Hono, itty-router… The same implementation as `createWebsocketHandle` (`upgrade.ts`), with the
 * `Request` where SvelteKit would pass its `RequestEvent`.
 */
import type { Authorize } from './authorize.js';
import type { RoomNamespace } from './handoff.js';
import type { AllowedOrigins } from './origin.js';
import { admitUpgrade, upgradeGate, type UpgradeGate } from './upgrade.js';

export interface UpgradeOptions<Meta extends object> {
	/**
	 * Who may join which room, and with what metadata. Required: a plain Worker has no SvelteKit
	 * `locals` for a default to read. Return `{ meta }`, nothing (401), or throw `refuse(403, …)`.
	 */
	authorize: Authorize<Meta, Request>;

	/**
	 * Origins whose pages may open sockets besides the Worker's own, which is always allowed; a
	 * function gets the `Request`. @default none
	 */
	allowedOrigins?: AllowedOrigins<Request>;

	/** The pathname whose WebSocket upgrades are taken (exact match). @default '/api/websocket' */
	path?: string;

	/** Longest room name accepted, in characters. @default 256 */
	maxRoomLength?: number;

	/** When the second argument is the Worker's `env`: the binding that holds the rooms. @default 'WS' */
	binding?: string;
}

/** Options checked once per options object, so a `const` options object costs its parsing once. */
const gates = new WeakMap<object, UpgradeGate<object, Request>>();

/**
 * Lets a WebSocket upgrade on `path` into its room, from a plain Worker's `fetch`: the `Origin`
 * check, the room name (`?room=`), your `authorize`, the refusals and the handoff to the room's
 * Durable Object, exactly as `createWebsocketHandle` does in SvelteKit. Resolves to `null` for any
 * request to another path, so the Worker goes on routing it.
 *
 * ```ts
 * import { handleUpgrade, refuse } from '@delightstack/websocket/server';
 * export { ChatRoom } from './room';
 *
 * const rooms = {
 *   async authorize(request: Request, room: string) {
 *     const user = await userFromCookie(request);
 *     if (!user) return;                          // 401: the client stops with close code 4401
 *     if (!user.rooms.includes(room)) refuse(403, 'Not your room');
 *     return { meta: { user_id: user.id, user_name: user.name } };
 *   },
 * };
 *
 * export default {
 *   async fetch(request: Request, env: Env): Promise<Response> {
 *     return (await handleUpgrade(request, env.WS, rooms)) ?? new Response('Not found', { status: 404 });
 *   },
 * };
 * ```
 *
 * `rooms` is the rooms' Durable Object namespace, or the Worker's `env` holding it under
 * `options.binding` (`WS` by default). Nothing here needs `@sveltejs/kit` installed.
 */
export function handleUpgrade<Meta extends object>(
	request: Request,
	rooms: RoomNamespace | object | null | undefined,
	options: UpgradeOptions<Meta>,
): Promise<Response | null> {
	let gate = gates.get(options) as UpgradeGate<Meta, Request> | undefined;
	if (!gate) {
		if (typeof options.authorize !== 'function') throw new TypeError('handleUpgrade: options.authorize is required');
		gate = upgradeGate<Meta, Request>(options, 'handleUpgrade');
		gates.set(options, gate as unknown as UpgradeGate<object, Request>);
	}
	const url = new URL(request.url);
	if (url.pathname !== gate.path) return Promise.resolve(null);
	return admitUpgrade(gate, request, url, request, () => namespaceIn(rooms, options.binding ?? 'WS'));
}

/** The namespace itself, or the one `env` holds under `binding`. */
function namespaceIn(rooms: RoomNamespace | object | null | undefined, binding: string): RoomNamespace | undefined {
	if (!rooms) return undefined;
	if (isNamespace(rooms)) return rooms;
	const bound = (rooms as Record<string, unknown>)[binding];
	return isNamespace(bound) ? bound : undefined;
}

function isNamespace(value: unknown): value is RoomNamespace {
	return typeof value === 'object' && value !== null && typeof (value as { idFromName?: unknown }).idFromName === 'function';
}
