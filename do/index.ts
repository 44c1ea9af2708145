/** `@delightstack/websocket/worker`: the room Durable Object and the API browsers may call. */
export { WebsocketServer, DEFAULT_ROOM_OPTIONS, type RoomMetric, type RoomMetrics, type RoomOptions, type SendTarget } from './server.js';
export { RoomApi, type MetaOf } from './api.js';
export type { BucketPolicy } from './limits.js';
// The contract's errors and types, as `@delightstack/websocket/rpc` exports them.
export * from '../rpc/index.js';
