/**
 * `@delightstack/websocket/server`: the SvelteKit side. `createWebsocketHandle` authorizes WebSocket
 * upgrades and hands them to the room's Durable Object.
 */
export { createWebsocketHandle, DEFAULT_WEBSOCKET_PATH, type WebsocketHandleOptions } from './handle.js';
export { authorizeFromAuthLocals, type Authorization, type Authorize, type AuthLocalsLike } from './authorize.js';
export type { AllowedOrigins } from './origin.js';
export type { RefusalBody, RefusalCode } from './refusal.js';
export type { RoomNamespace } from './handoff.js';
export { ROOM_PARAM, DEFAULT_MAX_ROOM_LENGTH } from './room.js';
export type { AuthSessionMeta } from '../rpc/types.js';
