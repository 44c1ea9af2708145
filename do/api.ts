/**
 * `RoomApi`: what browsers may call in a room. A room declares `static api = ChatApi`; each batch of
 * calls from a browser gets a fresh instance bound to the room and the caller, so methods know who
 * is calling without trusting anything the browser says about itself.
 */
import { RpcTarget } from 'capnweb';
import { RoomError } from '../rpc/errors.js';
import { EVENT_METHOD, PRESENCE_METHOD } from '../rpc/protocol.js';
import type { EncodedPayload } from '../rpc/payload.js';
import type { EventMap, Session } from '../rpc/types.js';
import type { WebsocketServer } from './server.js';

/** The room-side handler behind `send(event, data)`; keyed by a symbol so no RPC can name it. */
export const receiveEvent: unique symbol = Symbol('delightstack.receiveEvent');

/** The room-side handler behind `ws.presence.more()` (window presence); keyed like {@link receiveEvent}. */
export const pagePresence: unique symbol = Symbol('delightstack.pagePresence');

/** The `Meta` type parameter of a room class. */
export type MetaOf<Room> = Room extends WebsocketServer<infer Meta, EventMap, unknown> ? Meta : never;

/** Any room: what a `RoomApi` may be bound to. */
export type AnyRoom = WebsocketServer<unknown, EventMap, unknown>;

/** A `RoomApi` subclass, as a room's `static api` holds it. */
export type RoomApiClass = new (room: never, session: never) => RoomApi<AnyRoom>;

/**
 * Base class of a room's browser-facing API. Every method declared on a subclass (and on its
 * subclasses' chain up to `RoomApi`) is callable from browsers through `ws.rpc`; nothing else is:
 * not the room's own methods, not `RoomApi`'s fields, not anything on `Object.prototype`.
 *
 * ```ts
 * class ChatApi extends RoomApi<ChatRoom> {
 *   send(text: string) {
 *     this.room.broadcast('chat:message', { text, from: this.session.meta.user_name });
 *   }
 * }
 * ```
 *
 * Keep helpers `#private` (or outside the class): a public method is a public endpoint.
 */
export class RoomApi<Room extends AnyRoom = WebsocketServer> extends RpcTarget {
	/** The room (the Durable Object) this call runs in. */
	protected readonly room: Room;
	/** The calling socket's session, as the handle authorized it. */
	protected readonly session: Session<MetaOf<Room>>;

	constructor(room: Room, session: Session<MetaOf<Room>>) {
		super();
		this.room = room;
		this.session = session;
	}
}

// `send(event, data)` from a browser arrives here. Defined outside the class body so it never
// shows up in `RoomApi`'s type (and so in a client's `rpc` type).
Object.defineProperty(RoomApi.prototype, EVENT_METHOD, {
	value: function (this: RoomApi, name: string, payload: EncodedPayload) {
		const self = this as unknown as { room: AnyRoom; session: Session<unknown> };
		return self.room[receiveEvent](self.session, name, payload);
	},
});

// `ws.presence.more()` arrives here, kept out of the class's type the same way.
Object.defineProperty(RoomApi.prototype, PRESENCE_METHOD, {
	value: function (this: RoomApi, after: unknown, limit: unknown) {
		const self = this as unknown as { room: AnyRoom };
		return self.room[pagePresence](after, limit);
	},
});

/**
 * What a call the user's buckets could not cover becomes (the room rewrites it, keeping the batch's
 * numbering): it fails with `rate_limited`. Not a valid identifier, and not among the names a
 * browser may call, so only the room can put it in a batch.
 */
export const refusedCall = '~refused';

Object.defineProperty(RoomApi.prototype, refusedCall, {
	value: function (): never {
		throw new RoomError('rate_limited', 'Too many messages; slow down', 429);
	},
});

const methodCache = new WeakMap<RoomApiClass, ReadonlySet<string>>();

/**
 * The names a browser may call at the top of the API: methods and accessors declared on the class
 * chain below `RoomApi`, plus the reserved entry points (events, presence pages).
 */
export function callableNames(api: RoomApiClass): ReadonlySet<string> {
	let names = methodCache.get(api);
	if (names) return names;
	const found = new Set<string>([EVENT_METHOD, PRESENCE_METHOD]);
	for (let proto = api.prototype; proto && proto !== RoomApi.prototype; proto = Object.getPrototypeOf(proto)) {
		for (const key of Object.getOwnPropertyNames(proto)) {
			if (key === 'constructor' || key in Object.prototype) continue;
			const desc = Object.getOwnPropertyDescriptor(proto, key)!;
			if (typeof desc.value === 'function' || desc.get) found.add(key);
		}
	}
	names = found;
	methodCache.set(api, names);
	return names;
}
