/**
 * The benchmark Worker: three rooms side by side in one workerd process, so every figure is
 * measured against a baseline that ran on the same runtime, in the same run.
 *
 *   /ours/<room>   our `WebsocketServer` (typed RPC over capnweb batches), via the real handoff
 *   /bare/<room>   a hibernating Durable Object with no library: the physical limit
 *   /party/<room>  partyserver's `Server` with `hibernate: true`
 *   /bare-async/<room>, /capnweb/<room>   diagnostic rooms (`diagnostic.ts`)
 *   /ours-unbatched/<room>   our room with `presenceBatchMs: 0` (the connect storm's comparison)
 *   /ours-deflate/<room>   our room with `compression: true`: permessage-deflate, as bare and party
 *   /<impl>/<room>?variant=counted   the same room, counting its constructions and handler calls
 *   /counters/<room>?impl=<impl>   those counts, read from module scope: this never wakes the room
 *   /micro/<op>?n=  one piece of frame handling, n times (`profile/ops.ts`, `bench/profile/micro.ts`)
 *
 * Bare and party speak the smallest protocol that does the same job: a text frame starting with
 * "b" is broadcast as received to every socket (the sender included); any other frame is echoed.
 */
import { DurableObject } from 'cloudflare:workers';
import { Server, type Connection, type WSMessage } from 'partyserver';
import { RoomApi, WebsocketServer } from '../do/index.js';
import { PING, PONG } from '../rpc/frame.js';
import { handOff, type RoomNamespace } from '../kit/handoff.js';
import { accept, broadcastRaw } from './diagnostic.js';
import { hasPresence, type Impl } from './impl.js';
import { runOp } from './profile/ops.js';

export { BareAsyncRoom, CapnwebRoom } from './diagnostic.js';

interface Env {
	OURS: DurableObjectNamespace<BenchRoom>;
	BARE: DurableObjectNamespace<BareRoom>;
	PARTY: DurableObjectNamespace<PartyRoom>;
	BARE_ASYNC: DurableObjectNamespace;
	CAPNWEB: DurableObjectNamespace;
	OURS_UNBATCHED: DurableObjectNamespace<UnbatchedBenchRoom>;
	OURS_DEFLATE: DurableObjectNamespace<DeflateBenchRoom>;
	OURS_COUNTED: DurableObjectNamespace<CountedBenchRoom>;
	BARE_COUNTED: DurableObjectNamespace<CountedBareRoom>;
	PARTY_COUNTED: DurableObjectNamespace<CountedPartyRoom>;
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

/** No library: accept with hibernation, echo or broadcast. Nothing else happens per frame. */
export class BareRoom extends DurableObject<Env> {
	override async fetch(request: Request): Promise<Response> {
		if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return new Response('upgrade required', { status: 426 });
		return accept(this.ctx);
	}

	override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
		if (typeof message === 'string' && message.charCodeAt(0) === 98 /* b */) return broadcastRaw(this.ctx, message);
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

/** Our room with presence announced one change per frame (no coalescing): the N² comparison. */
export class UnbatchedBenchRoom extends BenchRoom {
	static override options = { ...BenchRoom.options, presenceBatchMs: 0 };
}

/** Our room accepting permessage-deflate, as bare and partyserver do: the like-for-like comparison. */
export class DeflateBenchRoom extends BenchRoom {
	static override options = { ...BenchRoom.options, compression: true };
}

// ---------------------------------------------------------------------------------------------
// Counted rooms (`?variant=counted`): the eviction and keep-alive scenarios need to know whether
// the runtime constructed a room again (it had been evicted) and whether any of its handlers ran.
// The counts live in module scope, which outlives an evicted Durable Object (the isolate stays), and
// the Worker reads them at `/counters/<room>` without waking the room.

export interface RoomCounts {
	/** Times the runtime constructed this room: 1 + evictions that were followed by a wake-up. */
	constructed: number;
	fetch: number;
	message: number;
	close: number;
	error: number;
}

const counts = new Map<string, RoomCounts>();

function countsFor(label: string, ctx: DurableObjectState): RoomCounts {
	const key = `${label}:${ctx.id.name ?? ctx.id.toString()}`;
	let entry = counts.get(key);
	if (!entry) counts.set(key, (entry = { constructed: 0, fetch: 0, message: 0, close: 0, error: 0 }));
	return entry;
}

export class CountedBenchRoom extends BenchRoom {
	readonly #counts: RoomCounts;
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		(this.#counts = countsFor('ours', ctx)).constructed++;
	}
	override fetch(request: Request): Promise<Response> {
		this.#counts.fetch++;
		return super.fetch(request);
	}
	override webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
		this.#counts.message++;
		return super.webSocketMessage(ws, raw);
	}
	override webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
		this.#counts.close++;
		return super.webSocketClose(ws, code, reason);
	}
	override webSocketError(ws: WebSocket): Promise<void> {
		this.#counts.error++;
		return super.webSocketError(ws);
	}
}

/** The bare room, counted, and answering the keep-alive ping in the runtime as ours does. */
export class CountedBareRoom extends BareRoom {
	readonly #counts: RoomCounts;
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
		(this.#counts = countsFor('bare', ctx)).constructed++;
	}
	override fetch(request: Request): Promise<Response> {
		this.#counts.fetch++;
		return super.fetch(request);
	}
	override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
		this.#counts.message++;
		super.webSocketMessage(ws, message);
	}
	override webSocketClose(ws: WebSocket, code: number, reason: string): void {
		this.#counts.close++;
		super.webSocketClose(ws, code, reason);
	}
	override webSocketError(): void {
		this.#counts.error++;
	}
}

/** partyserver, counted, with the same runtime-answered ping (partyserver does not set one itself). */
export class CountedPartyRoom extends PartyRoom {
	readonly #counts: RoomCounts;
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
		(this.#counts = countsFor('party', ctx)).constructed++;
	}
	override fetch(request: Request): Promise<Response> {
		this.#counts.fetch++;
		return super.fetch(request);
	}
	override webSocketMessage(ws: WebSocket, message: WSMessage): Promise<void> {
		this.#counts.message++;
		return super.webSocketMessage(ws, message);
	}
	override webSocketClose(ws: WebSocket, code: number, reason: string, wasClean: boolean): Promise<void> {
		this.#counts.close++;
		return super.webSocketClose(ws, code, reason, wasClean);
	}
	override webSocketError(ws: WebSocket, error: unknown): Promise<void> {
		this.#counts.error++;
		return super.webSocketError(ws, error);
	}
}

function namespace(env: Env, impl: string | undefined, counted: boolean): RoomNamespace | undefined {
	switch (impl) {
		case 'ours':
			return counted ? env.OURS_COUNTED : env.OURS;
		case 'bare':
			return counted ? env.BARE_COUNTED : env.BARE;
		case 'party':
			return counted ? env.PARTY_COUNTED : env.PARTY;
		case 'ours-unbatched':
			return env.OURS_UNBATCHED;
		case 'ours-deflate':
			return env.OURS_DEFLATE;
		case 'bare-async':
			return env.BARE_ASYNC;
		case 'capnweb':
			return env.CAPNWEB;
	}
	return undefined;
}

export default {
	async fetch(request: Request, env: Env): Promise<Response> {
		const url = new URL(request.url);
		const [, impl, room] = url.pathname.split('/').map(decodeURIComponent);
		if (!room) return new Response('room required', { status: 400 });
		// `bench/profile/micro.ts`: one piece of frame handling, n times (room = the piece's name).
		if (impl === 'micro') return runOp(room, Number(url.searchParams.get('n') ?? 1));
		if (impl === 'counters') {
			const label = url.searchParams.get('impl') ?? '';
			return Response.json(counts.get(`${label}:${room}`) ?? null);
		}
		const rooms = namespace(env, impl, url.searchParams.get('variant') === 'counted');
		if (!rooms) return new Response('not found', { status: 404 });
		// Ours (every room with presence is one of ours) stands in for the SvelteKit handle:
		// authorization is not what is measured.
		if (hasPresence(impl as Impl)) return handOff(rooms, request, { room, meta: { user_id: 'bench' } });
		return rooms.get(rooms.idFromName(room)).fetch(request);
	},
};
