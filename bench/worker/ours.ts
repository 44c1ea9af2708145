/**
 * Our room, as an app sets it up: a `WebsocketServer` with its `RoomApi` (from
 * `@delightstack/websocket/worker`), reached through `createWebsocketHandle` (from
 * `@delightstack/websocket/server`), the SvelteKit handle an app puts in `hooks.server.ts`.
 */
import { createWebsocketHandle, type RoomNamespace } from '@delightstack/websocket/server';
import { RoomApi, WebsocketServer } from '@delightstack/websocket/worker';
import type { Handle, RequestEvent } from '@sveltejs/kit';

export interface BenchMeta {
	user_id: string;
}

export interface BenchEvents {
	'bench:shout': unknown;
	[event: string]: unknown;
}

/** What bench clients may call in our room. */
export class BenchApi extends RoomApi<BenchRoom> {
	echo<T>(value: T): T {
		return value;
	}
	/** One broadcast to everyone in the room (the caller included), like the baselines' "b" frame. */
	shout(value: unknown): number {
		return this.room.broadcast('bench:shout', value);
	}
}

export class BenchRoom extends WebsocketServer<BenchMeta, BenchEvents> {
	static override api = BenchApi;
	// A benchmark hammers one socket, and opens thousands for one user, far past any sane production
	// limit; measure the library, not the limiter refusing. (Every bucket is still spent and saved.)
	static override options = {
		rateLimit: { capacity: 1e9, refillEveryMs: 1 },
		frameRateLimit: { capacity: 1e9, refillEveryMs: 1 },
		connectRateLimit: { capacity: 1e9, refillEveryMs: 1 },
		maxSocketsPerUser: Infinity,
		maxSessions: Infinity,
	};
}

/** Our room accepting permessage-deflate (`compression: true`), for `--deflate` runs. */
export class DeflateBenchRoom extends BenchRoom {
	static override options = { ...BenchRoom.options, compression: true };
}

/** Our room with presence announced one change per frame (no coalescing): the N² comparison. */
export class UnbatchedBenchRoom extends BenchRoom {
	static override options = { ...BenchRoom.options, presenceBatchMs: 0 };
}

/** Our room with window presence: a big room's presence, on one Durable Object (the `shards` scenario's baseline). */
export class WindowBenchRoom extends BenchRoom {
	static override options = { ...BenchRoom.options, presence: { window: 50 } };
}

/** The same room over 10 Durable Objects, which reach each other through their binding, `OURS_SHARDED`. */
export class ShardedBenchRoom extends BenchRoom {
	static override options = { ...WindowBenchRoom.options, shards: { count: 10, binding: 'OURS_SHARDED' } };
}

/**
 * The handle for one of our room classes at `path` (`?room=<room>`). Authorization is not what is
 * measured: every socket is let in as the same user, as a constant `authorize` would (or as the user
 * `user(event)` names: the sharded room spreads sockets by user, so its sockets are each their own).
 */
export function ourHandle(
	path: string,
	getServer: (event: RequestEvent) => RoomNamespace | undefined,
	user: (event: RequestEvent) => string = () => 'bench',
): Handle {
	return createWebsocketHandle<BenchMeta>({
		path,
		getServer,
		authorize: (event) => ({ meta: { user_id: user(event) } }),
	});
}

/**
 * What SvelteKit hands a handle for a request: the fields a WebSocket handle reads (`url`,
 * `request`, and `platform` for the app's own `getServer`), with the rest a page request would have
 * but an upgrade never uses (`cookies`, `tracing`) left out.
 */
export function requestEvent(request: Request, platform: App.Platform): RequestEvent {
	const event: Omit<RequestEvent, 'cookies' | 'tracing'> = {
		request,
		url: new URL(request.url),
		platform,
		locals: {},
		params: {},
		route: { id: null },
		fetch,
		getClientAddress: () => request.headers.get('cf-connecting-ip') ?? '127.0.0.1',
		setHeaders: () => {},
		isDataRequest: false,
		isSubRequest: false,
		isRemoteRequest: false,
	};
	return event as RequestEvent;
}
