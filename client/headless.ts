/**
 * `@delightstack/websocket/headless`: a room client for Node, Bun, Deno or any script — tests, bots,
 * a server joining a room — with no Svelte and no rune compiler. The same client as
 * `WebsocketClient` (one implementation, client/room-client.ts), with its state as plain
 * properties: read `status`, `sessions`, `error` whenever you like, or listen with `on`.
 *
 * ```ts
 * import { RoomClient } from '@delightstack/websocket/headless';
 *
 * const client = new RoomClient<Meta, Events, ChatApi>({ url: 'wss://app.example.com/api/websocket' });
 * await client.connect(org_id);
 * client.on('chat:message', (m) => console.log(m.text));
 * await client.rpc.send('hello from a bot');
 * client.destroy();
 * ```
 *
 * It connects the way a browser would, and nothing more: one WebSocket to the URL, no extra headers.
 * Your handle must therefore authorize the socket from what the URL carries — a signed token or
 * session id in the query (read by a custom `authorize`), or a cookie your own setup puts in front
 * of the socket. (Setting headers or cookies is not an option of this client.)
 */
import type { AuthSessionMeta, EventMap } from '../rpc/types.js';
import { plainReactivity } from './reactivity.js';
import { RoomClientCore, type RoomClientOptions } from './room-client.js';
import { roomUrl } from './room-url.js';

export { roomUrl };

export interface HeadlessClientOptions<Api = unknown> extends RoomClientOptions<Api> {
	/**
	 * Where the room's socket is: there is no page location to start from.
	 *
	 * - a string: the WebSocket endpoint (`wss://app.example.com/api/websocket`), or just the app's
	 *   origin (`https://app.example.com`, meaning `/api/websocket` there); `http(s)` becomes
	 *   `ws(s)`, and the room is added as the `room` query parameter;
	 * - a function: the full URL for a room, called for every attempt.
	 */
	url: string | ((room: string) => string);
	/**
	 * The WebSocket constructor. @default `globalThis.WebSocket` (Bun, Deno, Node 22+; on Node 20
	 * pass one, e.g. from the `ws` package, or run with `--experimental-websocket`)
	 */
	WebSocket?: typeof WebSocket;
}

/**
 * A connection to one room at a time, outside the browser. Everything `WebsocketClient` does —
 * reconnects, keep-alive, queued sends, presence (`sessions`, `users`), typed `on`/`send`/`rpc`,
 * the change feed — with plain properties instead of runes. Listen to `ws:connected`,
 * `ws:disconnected` and `session:*` to react to changes.
 *
 * @typeParam Meta the session metadata the handle assigns.
 * @typeParam Events the room's own events: name → payload type.
 * @typeParam Api the room's `RoomApi` class, for a typed `rpc`.
 */
export class RoomClient<Meta = AuthSessionMeta, Events extends object = EventMap, Api = unknown, Messages extends object = Events> extends RoomClientCore<
	Meta,
	Events,
	Api,
	Messages
> {
	constructor(options: HeadlessClientOptions<Api>) {
		const { url } = options;
		if (typeof url !== 'string' && typeof url !== 'function') {
			throw new TypeError("RoomClient needs `url`: the room's WebSocket endpoint (e.g. 'wss://app.example.com/api/websocket') or a function of the room");
		}
		super(options, {
			reactivity: plainReactivity,
			url: typeof url === 'string' ? (room) => roomUrl(url, room) : url,
			names: { className: 'RoomClient', variable: 'client' },
			canConnect: true,
			transport: (listener, ownSocket) => ownSocket(listener),
		});
	}
}

export type { NextRetry, RoomClientOptions } from './room-client.js';
export type { DebugOption } from './debug.js';
export type { ConnectionStatus, StatusChange, TransportWarning } from './transport.js';
export type { AnyEvent, ClientEvents, EntityChange, LocalEvents, WebsocketEvents, WsConnected, WsDisconnected } from './events.js';
export type { DatabaseClientHooks, DatabaseEntityChange, DatabaseHooks } from './change-feed.js';
export type { PresenceMember, RoomPresence, UserPresence } from './presence.js';
export type { Clock } from './clock.js';
export type { ReconnectOptions, WakeSignals, WakeReason } from './reconnect.js';
export { ClosedByRoom, RetriesExhausted, SendDropped } from './errors.js';
export { CallTimeout, ConnectionLost, RoomError, type RoomErrorCode, type RoomErrorData } from '../rpc/errors.js';
export type { AuthSessionMeta, EntityEvent, EventMap, RoomEvents, RoomRpc, SessionInfo } from '../rpc/types.js';
