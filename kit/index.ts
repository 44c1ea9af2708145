/**
 * `@delightstack/websocket/server`: letting browsers into rooms. `createWebsocketHandle` is the
 * SvelteKit `Handle`; `handleUpgrade` does the same for a plain Worker's `fetch`. Both authorize the
 * WebSocket upgrade and hand it to the room's Durable Object.
 *
 * Nothing in this entry imports `@sveltejs/kit` at runtime (only its types), so a Worker without
 * SvelteKit can use `handleUpgrade` from here.
 */
export { createWebsocketHandle, type WebsocketHandleOptions } from './handle.js';
export { handleUpgrade, type UpgradeOptions } from './worker-upgrade.js';
export { DEFAULT_WEBSOCKET_PATH } from './upgrade.js';
export { refuse, UpgradeRefused, type RefusalBody, type RefusalCode } from './refusal.js';
export { authorizeFromAuthLocals, type Authorization, type Authorize, type AuthLocalsLike } from './authorize.js';
export type { AllowedOrigins } from './origin.js';
export type { RoomNamespace } from './handoff.js';
export { ROOM_PARAM, DEFAULT_MAX_ROOM_LENGTH } from './room.js';
export type { AuthSessionMeta } from '../rpc/types.js';
