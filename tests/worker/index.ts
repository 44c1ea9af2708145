/**
 * The Worker the workerd tests run: a room with hooks that misbehave on request, a stand-in for the
 * SvelteKit handle (the test decides meta; the real handle has its own tests), and a route that
 * calls the room's server-side API through real Workers RPC.
 */
import { RpcTarget } from 'capnweb';
import { RoomApi, RoomError, WebsocketServer, type RoomMetric, type Session } from '../../do/index.js';
import { callableNames } from '../../do/api.js';
import { handOff } from '../../kit/handoff.js';
import { HANDOFF_HEADER } from '../../rpc/protocol.js';

export interface TestMeta {
	user_id: string;
	user_name?: string;
	fail?: 'connect' | 'disconnect';
	pad?: string;
	/** `onConnect` sends this socket three `hello`s: to it, to the room, to it. */
	greet?: boolean;
}

export interface TestEvents {
	'chat:message': { text: string; from: string; at: Date };
	'cursor:move': { x: number; y: number };
	rich: { at: Date; map: Map<string, number>; set: Set<string>; big: bigint; nothing: undefined };
	[event: string]: unknown;
}

interface Env {
	ROOM: DurableObjectNamespace<TestRoom>;
	/** Bound by `startRoomWorker` for this Worker only (other test Workers reuse its `fetch`). */
	STRICT?: DurableObjectNamespace<StrictRoom>;
	OPEN?: DurableObjectNamespace<OpenRoom>;
}

export class TestApi extends RoomApi<TestRoom> {
	whoami() {
		return { id: this.session.ws_session_id, meta: this.session.meta };
	}
	echo<T>(value: T): T {
		return value;
	}
	add(a: number, b: number) {
		return a + b;
	}
	counter(start: number) {
		return new Counter(start);
	}
	fail(code: string) {
		throw new RoomError(code, `failed with ${code}`, 409);
	}
	crash() {
		throw new Error('plain crash');
	}
	slow(ms: number) {
		return new Promise((resolve) => setTimeout(() => resolve(ms), ms));
	}
	post(text: string) {
		return this.room.broadcast('chat:message', { text, from: this.session.meta.user_id, at: new Date(0) });
	}
	get version() {
		return 1;
	}
}

class Counter extends RpcTarget {
	#n: number;
	constructor(n: number) {
		super();
		this.#n = n;
	}
	increment(by = 1) {
		this.#n += by;
		return this;
	}
	value() {
		return this.#n;
	}
}

export class TestRoom extends WebsocketServer<TestMeta, TestEvents, Env> {
	static override api = TestApi;
	static override options = { eventRateLimit: { capacity: 60, refillEveryMs: 1000, prefixes: ['cursor:'] } };

	/** A new id every time the runtime constructs this object: proves eviction happened. */
	readonly instanceId = crypto.randomUUID();

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, n INTEGER)');
		this.#bump('constructed');
	}

	#bump(name: string) {
		this.ctx.storage.sql.exec('INSERT INTO counters VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET n = n + 1', name);
	}

	/** Survives eviction: how often each handler ran. */
	stats(): { instanceId: string; counters: Record<string, number> } {
		const counters: Record<string, number> = {};
		for (const row of this.ctx.storage.sql.exec<{ name: string; n: number }>('SELECT name, n FROM counters')) {
			counters[row.name] = row.n;
		}
		return { instanceId: this.instanceId, counters };
	}

	/** Test-only: the tables in this room's SQLite storage. */
	tables(): string[] {
		return this.ctx.storage.sql
			.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
			.toArray()
			.map((row) => row.name);
	}

	/** Test-only: make a session's attachment unreadable, as storage corruption would. */
	corrupt(sessionId: string) {
		for (const ws of this.ctx.getWebSockets(`s:${sessionId}`)) ws.serializeAttachment({ garbage: true });
	}

	/** Test-only: close every socket with `code` (e.g. 1012 "service restart"), as a deploy would. */
	closeAll(code: number, reason: string) {
		for (const ws of this.ctx.getWebSockets()) ws.close(code, reason);
	}

	override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer) {
		this.#bump('message');
		return super.webSocketMessage(ws, raw);
	}

	/** Counts what the room reports, by kind and outcome (read back with `stats()`). */
	override onMetric(metric: RoomMetric) {
		this.#bump(
			`metric:${metric.kind}:${metric.kind === 'batch' ? metric.outcome : metric.kind === 'refused' ? metric.code : metric.kind === 'closed' ? metric.reason : metric.code}`,
		);
	}

	override onConnect(session: Session<TestMeta>) {
		this.#bump('connect');
		if (session.meta.fail === 'connect') throw new Error('onConnect exploded');
		if (session.meta.greet) {
			this.sendTo(session.ws_session_id, 'hello', { n: 1 });
			this.broadcast('hello', { n: 2 });
			this.sendTo(session.ws_session_id, 'hello', { n: 3 });
		}
	}

	override onDisconnect(session: Session<TestMeta>) {
		this.#bump('disconnect');
		if (session.meta.fail === 'disconnect') throw new Error('onDisconnect exploded');
	}

	override filterEntityChange(change: { entity_type: string }, session: Session<TestMeta>) {
		if (change.entity_type === 'boom' && session.meta.user_id === 'victim') throw new Error('filter exploded');
		return change.entity_type !== 'secret' || session.meta.user_id === 'boss';
	}

	/** What `log` events brought, in the order the room received them (this instance only). */
	readonly #logged: unknown[] = [];
	messages(): unknown[] {
		return this.#logged;
	}

	override onMessage(session: Session<TestMeta>, event: string, data: unknown) {
		if (event === 'log') return void this.#logged.push(data);
		if (event === 'explode') throw new Error('onMessage exploded');
		if (event === 'echo') return data;
		if (event === 'relay') return this.broadcast('rich', data as TestEvents['rich'], { exclude: session.ws_session_id });
		return undefined;
	}
}

/** The test room with tight limits and short deadlines, for the security tests (rooms named `strict-…`). */
export class StrictRoom extends TestRoom {
	static override options = {
		...TestRoom.options,
		callTimeoutMs: 1_000,
		idleTimeoutMs: 2_000,
		maxUnreadBytes: 64 * 1024,
		maxSocketsPerUser: 3,
		maxSessions: 8,
		connectRateLimit: { capacity: 6, refillEveryMs: 60_000 },
		changeLog: { maxChanges: 1000, maxAgeMs: 24 * 60 * 60 * 1000, maxCatchUpBytes: 16 * 1024 },
	};
}

/** The test room without rate limits, for fuzzing (rooms named `open-…`): every frame must be answered. */
export class OpenRoom extends TestRoom {
	static override options = {
		...TestRoom.options,
		rateLimit: { capacity: 1e9, refillEveryMs: 1 },
		frameRateLimit: { capacity: 1e9, refillEveryMs: 1 },
		maxRefusals: Infinity,
		callTimeoutMs: 2_000,
	};
}

/** Which class serves a room: by the room name's prefix. */
function namespaceFor(env: Env, room: string): DurableObjectNamespace<TestRoom> {
	const ns = room.startsWith('strict-') ? env.STRICT : room.startsWith('open-') ? env.OPEN : env.ROOM;
	if (!ns) throw new Error(`No room class bound for ${room}`);
	return ns;
}

type RpcCall = {
	method:
		| 'broadcast'
		| 'sendTo'
		| 'getSessions'
		| 'kick'
		| 'stats'
		| 'corrupt'
		| 'closeAll'
		| 'entityChanged'
		| 'entitiesChanged'
		| 'changeHead'
		| 'metrics'
		| 'messages'
		| 'tables';
	args: unknown[];
};

export default {
	async fetch(request: Request, env: Env): Promise<Response> {
		const url = new URL(request.url);
		const [, route, room] = url.pathname.split('/');
		if (!room) return new Response('room required', { status: 400 });
		switch (route) {
			case 'connect': {
				// Stands in for the handle: the test decides meta. A client-sent handoff header is
				// replaced, as the real handle does.
				const meta = JSON.parse(url.searchParams.get('meta') ?? '{"user_id":"anon"}');
				return handOff(namespaceFor(env, room), request, { room, meta });
			}
			case 'raw': {
				// Reaches the room with whatever handoff header the test sent (or none).
				const ns = namespaceFor(env, room);
				const stub = ns.get(ns.idFromName(room));
				const headers = new Headers(request.headers);
				const forged = url.searchParams.get('handoff');
				if (forged !== null) headers.set(HANDOFF_HEADER, forged);
				return stub.fetch(new Request(request, { headers }));
			}
			case 'callable':
				return Response.json([...callableNames(TestApi)]);
			case 'rpc': {
				const { method, args } = (await request.json()) as RpcCall;
				const ns = namespaceFor(env, room);
				const stub = ns.get(ns.idFromName(room)) as any;
				const result = await stub[method](...args);
				return Response.json({ result: result ?? null });
			}
		}
		return new Response('not found', { status: 404 });
	},
};
