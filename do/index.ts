/** `@delightstack/websocket/worker`: the room Durable Object and the API browsers may call. */
export { WebsocketServer, DEFAULT_ROOM_OPTIONS, type RoomMetric, type RoomMetrics, type RoomOptions, type SendTarget } from './server.js';
export { RoomApi, type MetaOf } from './api.js';
export type { BucketPolicy } from './limits.js';
export * from '../rpc/errors.js';
export type {
	AuthSessionMeta,
	EntityAction,
	EntityChangeInput,
	EntityEvent,
	EventMap,
	MessageOf,
	PresenceMode,
	RoomEvents,
	Session,
	SessionInfo,
} from '../rpc/types.js';
export { CloseCode } from '../rpc/protocol.js';
