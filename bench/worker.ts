/**
 * The benchmark Worker: three rooms side by side in one workerd process, so every figure is
 * measured against a baseline that ran on the same runtime, in the same run.
 *
 *   /ours/<room>   our `WebsocketServer` (typed RPC over capnweb batches), via the real handoff
 *   /bare/<room>   a hibernating Durable Object with no library: the physical limit
 *   /party/<room>  partyserver's `Server` with `hibernate: true`
 *   /bare-async/<room>, /capnweb/<room>   diagnostic rooms (`diagnostic.ts`)
 *   /micro/<op>?n=  one piece of frame handling, n times (`profile/ops.ts`, `bench/profile/micro.ts`)
 *
 * Bare and party speak the smallest protocol that does the same job: a text frame starting with
 * "b" is broadcast as received to every socket (the sender included); any other frame is echoed.
 */
import { DurableObject } from 'cloudflare:workers';
import { Server, type Connection, type WSMessage } from 'partyserver';
import { RoomApi, WebsocketServer } from '../do/index.js';
import { handOff } from '../kit/handoff.js';
import { runOp } from './profile/ops.js';

export { BareAsyncRoom, CapnwebRoom } from './diagnostic.js';

interface Env {
	OURS: DurableObjectNamespace<BenchRoom>;
	BARE: DurableObjectNamespace<BareRoom>;
	PARTY: DurableObjectNamespace<PartyRoom>;
	BARE_ASYNC: DurableObjectNamespace;
	CAPNWEB: DurableObjectNamespace;
}

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
	ping(): 'pong' {
		return 'pong';
	}
	/** One broadcast to everyone in the room (the caller included), like the baselines' "b" frame. */
	shout(value: unknown): number {
		return this.room.broadcast('bench:shout', value);
	}
}

export class BenchRoom extends WebsocketServer<BenchMeta, BenchEvents, Env> {
	static override api = BenchApi;
	// A benchmark hammers one socket far past any sane production limit; measure the library, not
	// the rate limiter refusing calls. (The bucket is still spent and saved on every frame.)
	static override options = { rateLimit: { capacity: 1e9, refillEveryMs: 1 } };
}

/** No library: accept with hibernation, echo or broadcast. Nothing else happens per frame. */
export class BareRoom extends DurableObject<Env> {
	override async fetch(request: Request): Promise<Response> {
		if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return new Response('upgrade required', { status: 426 });
		const { 0: client, 1: server } = new WebSocketPair();
		this.ctx.acceptWebSocket(server);
		return new Response(null, { status: 101, webSocket: client });
	}

	override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
		if (typeof message === 'string' && message.charCodeAt(0) === 98 /* b */) {
			for (const socket of this.ctx.getWebSockets()) {
				try {
					socket.send(message);
				} catch {
					// A socket that is closing: the others still get theirs.
				}
			}
			return;
		}
		ws.send(message);
	}

	override webSocketClose(ws: WebSocket, code: number, reason: string): void {
		try {
			ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
		} catch {
			// Already closed.
		}
	}
}

/** partyserver with hibernation, doing exactly what the bare room does. */
export class PartyRoom extends Server<any> {
	static override options = { hibernate: true };

	override onMessage(connection: Connection, message: WSMessage): void {
		if (typeof message === 'string' && message.charCodeAt(0) === 98 /* b */) return this.broadcast(message);
		connection.send(message);
	}
}

export default {
	async fetch(request: Request, env: Env): Promise<Response> {
		const url = new URL(request.url);
		const [, impl, room] = url.pathname.split('/').map(decodeURIComponent);
		if (!room) return new Response('room required', { status: 400 });
		// `bench/profile/micro.ts`: one piece of frame handling, n times (room = the piece's name).
		if (impl === 'micro') return runOp(room, Number(url.searchParams.get('n') ?? 1));
		switch (impl) {
			case 'ours':
				// Stands in for the SvelteKit handle: authorization is not what is measured.
				return handOff(env.OURS, request, { room, meta: { user_id: 'bench' } });
			case 'bare':
				return env.BARE.get(env.BARE.idFromName(room)).fetch(request);
			case 'party':
				return env.PARTY.get(env.PARTY.idFromName(room)).fetch(request);
			case 'bare-async':
				return env.BARE_ASYNC.get(env.BARE_ASYNC.idFromName(room)).fetch(request);
			case 'capnweb':
				return env.CAPNWEB.get(env.CAPNWEB.idFromName(room)).fetch(request);
		}
		return new Response('not found', { status: 404 });
	},
};
