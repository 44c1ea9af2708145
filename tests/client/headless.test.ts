/**
 * The headless `RoomClient` (`@delightstack/websocket/headless`) against the real room in workerd:
 * plain properties instead of runes, everything else the same client.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { ClosedByRoom, RoomClient, RoomError, roomUrl, type HeadlessClientOptions } from '../../client/headless.js';
import { ManualClock } from '../support/manual-clock.js';
import { startRoomWorker, type RoomWorker } from '../support/workerd.js';
import type { TestApi, TestEvents, TestMeta } from '../worker/index.js';

const root = join(import.meta.dir, '..', '..');

let worker: RoomWorker;
beforeAll(async () => (worker = await startRoomWorker()));
afterAll(() => worker.dispose());

let rooms = 0;
const freshRoom = () => `headless-${++rooms}-${Date.now()}`;

type Client = RoomClient<TestMeta, TestEvents, TestApi>;

function client(meta: TestMeta, options: Partial<HeadlessClientOptions<TestApi>> = {}): Client {
	return new RoomClient<TestMeta, TestEvents, TestApi>({ url: (room) => worker.connectUrl(room, meta), random: () => 0.5, ...options });
}

/** The next `name` event of `c`. */
function next<T>(c: Client, name: 'ws:connected' | 'ws:disconnected' | 'session:connected' | 'session:disconnected' | 'chat:message'): Promise<T> {
	return new Promise((resolve) => c.once(name, (data) => resolve(data as T)));
}

describe('RoomClient', () => {
	test('joins, keeps presence, calls, sends and hears events, with plain properties', async () => {
		const room = freshRoom();
		const ann = client({ user_id: 'ann' });
		expect(ann.status).toBe('disconnected');
		const joining = ann.connect(room);
		expect(ann.status).toBe('connecting');
		await joining;
		expect(ann.status).toBe('connected');
		expect(ann.connected).toBe(true);
		expect(ann.room).toBe(room);
		expect(ann.sessions.map((s) => s.meta.user_id)).toEqual(['ann']);

		const bob = client({ user_id: 'bob' });
		const bobJoined = next(ann, 'session:connected');
		await bob.connect(room);
		await bobJoined;
		expect(ann.users.map((u) => u.user_id)).toEqual(['ann', 'bob']);

		expect(await ann.rpc.add(1, 2)).toBe(3);
		expect(await ann.rpc.counter(1).increment(2).value()).toBe(3);
		const refused = await ann.rpc.fail('sold_out').catch((e: unknown) => e);
		expect(refused).toBeInstanceOf(RoomError);
		expect(refused).toMatchObject({ code: 'sold_out', status: 409 });
		expect(await ann.send('echo', { at: new Date(5) })).toEqual({ at: new Date(5) });

		const heard = next<{ text: string }>(bob, 'chat:message');
		await ann.rpc.post('hello bob');
		expect((await heard).text).toBe('hello bob');

		const bobLeft = next(ann, 'session:disconnected');
		bob.destroy();
		await bobLeft;
		expect(ann.sessions.map((s) => s.meta.user_id)).toEqual(['ann']);
		ann.destroy();
		expect(ann.status).toBe('disconnected');
	});

	test('reconnects after a drop, and stops with ClosedByRoom when kicked', async () => {
		const room = freshRoom();
		const clock = new ManualClock();
		const ann = client({ user_id: 'ann' }, { clock });
		await ann.connect(room);
		const dropped = next<{ reconnecting: boolean }>(ann, 'ws:disconnected');
		// Closed from Workers RPC, local workerd leaves the socket half-closed (see client.test.ts):
		// once the room has let go of it, the next keep-alive ping finds it dead.
		await worker.rpc(room, 'closeAll', 1012, 'service restart');
		for (let i = 0; i < 100 && (await worker.rpc<unknown[]>(room, 'getSessions')).length > 0; i++);
		clock.advance(30_000);
		expect((await dropped).reconnecting).toBe(true);
		expect(ann.status).toBe('reconnecting');
		expect(ann.nextRetry).toEqual({ attempt: 1, at: clock.now() + 1_000 });
		const back = next<{ reconnected: boolean }>(ann, 'ws:connected');
		clock.advance(1_000);
		expect((await back).reconnected).toBe(true);

		const [session] = await worker.rpc<Array<{ ws_session_id: string }>>(room, 'getSessions');
		const kicked = next(ann, 'ws:disconnected');
		await worker.rpc(room, 'kick', session!.ws_session_id, 'enough');
		await kicked;
		expect(ann.status).toBe('disconnected');
		expect(ann.error).toBeInstanceOf(ClosedByRoom);
		ann.destroy();
	});

	test('runs in plain Bun without the rune compiler, and never loads Svelte', async () => {
		const room = freshRoom();
		const proc = Bun.spawn([process.execPath, 'tests/client/headless-probe.ts', worker.connectUrl(room, { user_id: 'bot' })], {
			cwd: root,
			stdout: 'pipe',
			stderr: 'pipe',
		});
		const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
		if (code !== 0) throw new Error(`headless-probe exited with ${code}: ${err}`);
		expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({
			statuses: ['connected'],
			sessions: 0, // after destroy()
			sum: 5,
			refused: 'nope',
			svelteLoaded: false,
			after: 'disconnected',
		});
	});

	test('url as a string: the endpoint, or just the origin', () => {
		expect(roomUrl('wss://app.example.com/api/websocket', 'org 1')).toBe('wss://app.example.com/api/websocket?room=org+1');
		expect(roomUrl('https://app.example.com', 'org-1')).toBe('wss://app.example.com/api/websocket?room=org-1');
		expect(roomUrl('http://127.0.0.1:8787/', 'r')).toBe('ws://127.0.0.1:8787/api/websocket?room=r');
		expect(roomUrl('ws://127.0.0.1:8787/ws?token=abc', 'r')).toBe('ws://127.0.0.1:8787/ws?token=abc&room=r');
		expect(() => new RoomClient({} as HeadlessClientOptions)).toThrow(TypeError);
	});

	test('calls before connect() and after destroy() say so', async () => {
		const ann = client({ user_id: 'ann' });
		expect(await ann.rpc.add(1, 1).catch((e: unknown) => e)).toMatchObject({
			code: 'not_connected',
			message: 'Not in a room: call client.connect(room) before calling the room',
		});
		ann.destroy();
		expect(await ann.send('echo', 1).catch((e: unknown) => e)).toMatchObject({ code: 'destroyed', message: 'This RoomClient was destroyed; create a new one' });
	});
});
