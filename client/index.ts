/**
 * `@delightstack/websocket/client`: the browser side of a room.
 *
 * ```ts
 * import { WebsocketClient } from '@delightstack/websocket/client';
 *
 * const ws = new WebsocketClient<Meta, Events, ChatApi>();
 * await ws.connect(org_id);
 * ws.status; ws.sessions; ws.users;           // reactive ($state)
 * ws.presence.count; await ws.presence.more(); // any room size (see RoomPresence)
 * ws.on('session:connected', (s) => …);
 * await ws.send('cursor:move', { x, y });     // the room's onMessage
 * await ws.rpc.send('hi');                    // the room's RoomApi
 * ```
 *
 * In a browser with `SharedWorker`, all tabs of the origin share one socket per room through a
 * worker this package ships (Vite bundles it by itself; see client/shared/README.md); elsewhere,
 * or with `shared: false`, each client has its own socket. Either way each tab gets every event
 * exactly once and only its own replies.
 *
 * Outside Svelte (Node, Bun, tests, bots), use `RoomClient` from `@delightstack/websocket/headless`:
 * the same client with plain properties, needing no rune compiler.
 */
export { WebsocketClient, type NextRetry, type WebsocketClientOptions } from './websocket-client.svelte.js';
export { sameOriginUrl } from './room-url.js';
export type { RoomClientOptions } from './room-client.js';
export type { DebugOption } from './debug.js';
export { ReconnectPolicy, DEFAULT_RECONNECT, type ReconnectOptions, type ReconnectDecision, type WakeReason, type WakeSignals } from './reconnect.js';
// The types of the options a test or another runtime may swap in (`transport`, `sharedWorker`).
export type { OpenPort } from './shared/port-transport.js';
export type { ConnectionStatus, RoomTransport, StatusChange, TransportFactory, TransportHandlers, TransportWarning } from './transport.js';
export type { AnyEvent, ClientEvents, EntityChange, LocalEvents, WebsocketEvents, WsConnected, WsDisconnected } from './events.js';
export type { DatabaseClientHooks, DatabaseEntityChange, DatabaseHooks } from './change-feed.js';
export type { PresenceMember, RoomPresence, UserPresence } from './presence.js';
export type { Clock } from './clock.js';
export { ClosedByRoom, RetriesExhausted, SendDropped } from './errors.js';
// The contract's errors and types, as `@delightstack/websocket/rpc` exports them.
export * from '../rpc/index.js';
