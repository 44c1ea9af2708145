/**
 * What a new user of the client runs into first, against the real room in workerd: the README's
 * `$effect` pattern, calling before connecting or after destroying, keeping `ws.rpc`, the room's
 * `RoomError`s, the client's own event names, a server that never answers the upgrade, and the
 * `debug` option.
 */
import { afterAll, beforeAll, describe, expect, spyOn, test } from 'bun:test';
import type { Socket, TCPSocketListener } from 'bun';
import { ClosedByRoom } from '../../client/errors.js';
import { SocketTransport } from '../../client/socket-transport.js';
import type { TransportListener } from '../../client/transport.js';
import { WebsocketClient, type WebsocketClientOptions } from '../../client/websocket-client.svelte.js';
import { CallTimeout, RoomError } from '../../rpc/errors.js';
import type { RoomRpc } from '../../rpc/types.js';
import { nextEvent, noJitter, recordEvents } from '../support/clients.js';
import { FakeRoom } from '../support/fake-room.js';
import { ManualClock } from '../support/manual-clock.js';
import { flushSync, until } from '../support/runes.svelte.js';
import { startRoomWorker, type RoomWorker } from '../support/workerd.js';
import type { TestApi, TestEvents, TestMeta } from '../worker/index.js';
import { mountReadmePattern } from './readme-effect.svelte.js';

type Client = WebsocketClient<TestMeta, TestEvents, TestApi>;

let worker: RoomWorker;
beforeAll(async () => (worker = await startRoomWorker()));
afterAll(() => worker.dispose());

let rooms = 0;
const freshRoom = () => `api-${++rooms}-${Date.now()}`;

function client(meta: TestMeta, options: WebsocketClientOptions<TestApi> = {}): Client {
	return new WebsocketClient<TestMeta, TestEvents, TestApi>({ WebSocket, url: (room) => worker.connectUrl(room, meta), random: noJitter, ...options });
}

describe('the README pattern', () => {
	test('an $effect that connects and destroys on cleanup runs once, connects, and stays connected', async () => {
		const room = freshRoom();
		const ws = client({ user_id: 'ann' });
		const { seen, unmount } = mountReadmePattern(ws, room);
		await until(() => ws.connected, 'the README component to connect');
		// Status changes (connecting → connected) did not re-run the connecting effect.
		flushSync();
		expect(seen.runs).toBe(1);
		expect(seen.cleanups).toBe(0);
		// The markup's effect first ran after connect() had already said 'connecting'.
		expect(seen.statuses).toEqual(['connecting', 'connected']);
		expect(await ws.rpc.add(1, 2)).toBe(3);

		unmount();
		expect(seen.cleanups).toBe(1);
		expect(ws.status).toBe('disconnected');
	});

	test('connect() without a room is a TypeError saying what to pass', async () => {
		const ws = client({ user_id: 'ann' });
		for (const room of [undefined, '', 42]) {
			const error = await (ws.connect as (room?: unknown) => Promise<void>)(room).catch((e: unknown) => e);
			expect(error).toBeInstanceOf(TypeError);
			expect((error as Error).message).toContain('WebsocketClient.connect(room) needs the room to join, a non-empty string');
		}
		expect(ws.status).toBe('disconnected');
		ws.destroy();
	});
});

describe('calls say what happened', () => {
	test('before connect(): not_connected; after destroy(): destroyed (rpc and send)', async () => {
		const ws = client({ user_id: 'ann' });
		const rpc = ws.rpc;
		expect(await rpc.add(1, 1).catch((e) => e)).toMatchObject({ code: 'not_connected', message: 'Not in a room: call ws.connect(room) before calling the room' });
		expect(await ws.send('echo', 1).catch((e) => e)).toMatchObject({ code: 'not_connected' });
		// The same rpc object, kept from before connect(), works once connected.
		await ws.connect(freshRoom());
		expect(await rpc.add(1, 1)).toBe(2);
		ws.destroy();
		for (const failed of [await rpc.add(1, 1).catch((e) => e), await ws.send('echo', 1).catch((e) => e), await ws.connect('x').catch((e) => e)]) {
			expect(failed).toBeInstanceOf(RoomError);
			expect(failed).toMatchObject({ code: 'destroyed', message: 'This WebsocketClient was destroyed; create a new one' });
		}
	});

	test('a kept ws.rpc starts a new batch per macrotask: plain calls, pipelining, in a row', async () => {
		const ws = client({ user_id: 'ann' });
		await ws.connect(freshRoom());
		const rpc = ws.rpc;
		expect(rpc).toBe(ws.rpc);
		expect(await rpc.add(1, 2)).toBe(3);
		expect(await rpc.add(3, 4)).toBe(7);
		expect(await rpc.counter(1).increment(2).value()).toBe(3);
		expect(await rpc.echo({ at: 'again' })).toEqual({ at: 'again' });
		// Two in one macrotask still share a batch, and both answer.
		expect(await Promise.all([rpc.add(1, 1), rpc.add(2, 2)])).toEqual([2, 4]);
		ws.destroy();
	});

	test("a RoomError thrown by a method is a RoomError at the caller, on the fast path and through a session", async () => {
		const ws = client({ user_id: 'ann' });
		await ws.connect(freshRoom());
		const expected = { code: 'out_of_stock', status: 409, message: 'failed with out_of_stock' };

		// One plain call: answered without a capnweb session.
		const alone = await ws.rpc.fail('out_of_stock').catch((e: unknown) => e);
		expect(alone).toBeInstanceOf(RoomError);
		expect(alone).toMatchObject(expected);

		// Two calls in one batch go through a capnweb session.
		const [ok, inBatch] = await Promise.all([ws.rpc.add(1, 1), ws.rpc.fail('out_of_stock').catch((e: unknown) => e)]);
		expect(ok).toBe(2);
		expect(inBatch).toBeInstanceOf(RoomError);
		expect(inBatch).toMatchObject(expected);

		// Pipelined on the failing call: the failure comes out of a chain of capnweb promises.
		const failing = ws.rpc.fail('piped') as unknown as { value(): Promise<unknown> };
		const piped = await failing.value().catch((e: unknown) => e);
		expect(piped).toBeInstanceOf(RoomError);
		expect(piped).toMatchObject({ code: 'piped', status: 409 });

		// Any other error thrown by a method: method_failed, still a RoomError, on both paths.
		const crashed = await ws.rpc.crash().catch((e: unknown) => e);
		expect(crashed).toBeInstanceOf(RoomError);
		expect(crashed).toMatchObject({ code: 'method_failed', message: 'plain crash' });
		const [, crashedInBatch] = await Promise.all([ws.rpc.add(0, 0), ws.rpc.crash().catch((e: unknown) => e)]);
		expect(crashedInBatch).toBeInstanceOf(RoomError);
		expect(crashedInBatch).toMatchObject({ code: 'method_failed' });
		ws.destroy();
	});

	test('a timeout is still a CallTimeout, and success values are untouched through the wrapper', async () => {
		const ws = client({ user_id: 'ann' }, { callTimeoutMs: 100 });
		await ws.connect(freshRoom());
		expect(await ws.rpc.slow(1_000).catch((e: unknown) => e)).toBeInstanceOf(CallTimeout);
		const [n, who] = await Promise.all([ws.rpc.counter(5).value(), ws.rpc.whoami()]);
		expect(n).toBe(5);
		expect(who.meta.user_id).toBe('ann');
		ws.destroy();
	});
});

describe("the client's own event names", () => {
	test('send("ws:…") and send("*") reject locally with forbidden_event; nothing reaches the room', async () => {
		const room = freshRoom();
		const ws = client({ user_id: 'ann' });
		await ws.connect(room);
		const before = (await worker.rpc<{ counters: Record<string, number> }>(room, 'stats')).counters.message ?? 0;
		const send = (ws.send as (event: string, data: unknown) => Promise<unknown>).bind(ws);
		for (const name of ['ws:connected', 'ws:anything', '*']) {
			const refused = await send(name, {}).catch((e: unknown) => e);
			expect(refused).toBeInstanceOf(RoomError);
			expect(refused).toMatchObject({ code: 'forbidden_event', status: 403 });
			expect((refused as Error).message).toContain(`"${name}"`);
		}
		// A send that does go out afterwards is the room's first message since: the refused ones never left.
		expect(await ws.send('echo', 'through')).toBe('through');
		const after = (await worker.rpc<{ counters: Record<string, number> }>(room, 'stats')).counters.message ?? 0;
		expect(after - before).toBe(1);
		ws.destroy();
	});

	test('events named ws:* or * arriving from the room are never emitted', async () => {
		let fromRoom: TransportListener | undefined;
		const ws = client({ user_id: 'ann' }, {
			transport: (listener) => {
				fromRoom = listener;
				return new SocketTransport<RoomRpc<TestApi>>(listener, { url: (room) => worker.connectUrl(room, { user_id: 'ann' }), WebSocket });
			},
		});
		await ws.connect(freshRoom());
		const seen = recordEvents(ws);
		fromRoom!.event('ws:connected', { room: 'forged', reconnected: true });
		fromRoom!.event('ws:disconnected', { room: 'forged', code: 1000, reason: '', reconnecting: false });
		fromRoom!.event('*', { event: 'chat:message', data: {} });
		fromRoom!.event('chat:message', { text: 'real', from: 'x', at: new Date(0) });
		expect(seen.map((e) => e.event)).toEqual(['chat:message']);
		expect(ws.connected).toBe(true);
		ws.destroy();
	});
});

/** A TCP server that accepts connections and never says a word: Vite dev with an upgrade it does not own. */
function silentServer(): { listener: TCPSocketListener<undefined>; untilAccepted(n: number): Promise<void>; stop(): void } {
	let accepted = 0;
	const waiters: Array<() => void> = [];
	const sockets = new Set<Socket<undefined>>();
	const listener = Bun.listen<undefined>({
		hostname: '127.0.0.1',
		port: 0,
		socket: {
			open: (socket) => {
				accepted++;
				sockets.add(socket);
				for (const wake of waiters.splice(0)) wake();
			},
			data: () => {},
			close: (socket) => void sockets.delete(socket),
		},
	});
	const untilAccepted = (n: number): Promise<void> =>
		accepted >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(() => resolve(untilAccepted(n))));
	return {
		listener,
		untilAccepted,
		stop: () => {
			for (const socket of sockets) socket.end();
			listener.stop(true);
		},
	};
}

describe('connect timeout', () => {
	test('a server that never answers the upgrade: connect_timeout on ws.error, warned once, and retries continue', async () => {
		const server = silentServer();
		const warn = spyOn(console, 'warn').mockImplementation(() => {});
		const url = `ws://127.0.0.1:${server.listener.port}/api/websocket?room=lobby`;
		try {
			const ws = new WebsocketClient({ WebSocket, url: () => url, connectTimeoutMs: 300, reconnect: { baseDelayMs: 50, jitter: 0 } });
			const started = Date.now();
			ws.connect('lobby').catch(() => {});
			expect(ws.status).toBe('connecting');
			await until(() => ws.error !== null, 'the connect timeout', 5_000);
			expect(Date.now() - started).toBeGreaterThanOrEqual(290);
			expect(ws.error).toBeInstanceOf(RoomError);
			expect(ws.error).toMatchObject({ code: 'connect_timeout' });
			expect(ws.error!.message).toContain(`never answered the WebSocket upgrade at ${url}`);
			expect(ws.error!.message).toContain('vite dev');
			expect(ws.status).toBe('reconnecting');

			// The policy carries on: the next attempts reach the server and time out too, warned only once.
			// (A third connection means the second attempt timed out and was retried.)
			await server.untilAccepted(3);
			expect(ws.error).toMatchObject({ code: 'connect_timeout' });
			expect(warn).toHaveBeenCalledTimes(1);
			expect(String(warn.mock.calls[0]![0])).toContain(`never answered the WebSocket upgrade at ${url}`);
			ws.destroy();
		} finally {
			warn.mockRestore();
			server.stop();
		}
	});
});

describe('debug', () => {
	test('reports frames in and out, cut to a readable length', async () => {
		const lines: string[] = [];
		const ws = client({ user_id: 'ann' }, { debug: (line) => lines.push(line) });
		await ws.connect(freshRoom());
		expect(lines.some((l) => l.startsWith('open ws://'))).toBe(true);
		expect(lines.some((l) => l.startsWith('← ') && l.includes('session:list'))).toBe(true);
		await ws.rpc.echo('x'.repeat(1_000));
		const out = lines.find((l) => l.startsWith('→ c'))!;
		expect(out).toMatch(/… \(\d+ chars\)$/);
		expect(out.length).toBeLessThan(260);
		ws.destroy();
	});

	test('reports every reconnect decision: why it closed and the next delay, or the code that stops', async () => {
		const fake = new FakeRoom();
		const clock = new ManualClock();
		const lines: string[] = [];
		const ws = new WebsocketClient({ WebSocket, url: () => fake.url, clock, random: noJitter, debug: (line) => lines.push(line) });
		try {
			await ws.connect('r');
			const dropped = nextEvent(ws, 'ws:disconnected');
			fake.closeAll(1012);
			await dropped;
			expect(lines.at(-1)).toBe('closed 1012 "fake room closes all": retry 1 in 1000 ms');

			fake.behaviour.closeWith = 4403;
			clock.advance(1_000);
			await until(() => ws.status === 'disconnected', 'refused for good');
			expect(ws.error).toBeInstanceOf(ClosedByRoom);
			expect(lines.at(-1)).toBe('closed 4403 "fake room closes": stopping, forbidden (Not allowed to join this room: fake room closes)');
		} finally {
			ws.destroy();
			fake.stop();
		}
	});

	test('debug: true logs with console.debug', async () => {
		const debug = spyOn(console, 'debug').mockImplementation(() => {});
		try {
			const ws = client({ user_id: 'ann' }, { debug: true });
			await ws.connect(freshRoom());
			expect(debug.mock.calls.some(([line]) => String(line).startsWith('@delightstack/websocket open ws://'))).toBe(true);
			ws.destroy();
		} finally {
			debug.mockRestore();
		}
	});
});
