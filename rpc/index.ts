/**
 * `@delightstack/websocket/rpc`: the types both ends share, for code that talks about a room without
 * being one (shared `$lib` types, tests): errors, sessions, events, and the typed stub of a room's
 * API. The wire format behind them is the package's own business.
 */
export { CallTimeout, ConnectionLost, RoomError, type RoomErrorCode, type RoomErrorData } from './errors.js';
export { CloseCode } from './protocol.js';
export type {
	AuthSessionMeta,
	EntityAction,
	EntityChangeInput,
	EntityEvent,
	EventMap,
	MessageOf,
	PresenceCount,
	PresenceMode,
	PresencePage,
	PresenceUpdate,
	PresenceWindow,
	RoomEvents,
	RoomRpc,
	Session,
	SessionInfo,
} from './types.js';
