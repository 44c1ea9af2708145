/**
 * `WebsocketClient` against the real room in workerd: real sockets, real Durable Object, the
 * client's rune state observed through `$effect`. Also what a new user runs into first: the README's
 * `$effect` pattern, calling before connecting or after destroying, keeping `ws.rpc`, the room's
 * `RoomError`s, the client's own event names, a server that never answers the upgrade, `debug`. Timers the client sets (backoff, keep-alive,
 * grace periods) run on a ManualClock, so each step is taken on purpose, never slept through.
 */
import type { Socket, TCPSocketListener } from 'bun';
import { afterAll, beforeAll, describe, expect, spyOn, test } from 'bun:test';
import { ClosedByRoom, SendDropped } from '../../client/errors.js';
import { SocketTransport } from '../../client/socket-transport.js';
import type { TransportHandlers } from '../../client/transport.js';
import { WebsocketClient, type WebsocketClientOptions } from '../../client/websocket-client.svelte.js';
import { CallTimeout, ConnectionLost, RoomError } from '../../rpc/errors.js';
import type { RoomRpc } from '../../rpc/types.js';
import { nextEvent, noJitter, recordEvents } from '../support/clients.js';
import { FakeRoom } from '../support/fake-room.js';
import { ManualClock } from '../support/manual-clock.js';
import { flushSync, observe, until } from '../support/runes.svelte.js';
import { startRoomWorker, type RoomWorker } from '../support/workerd.js';
import type { TestApi, TestEvents, TestMeta } from '../worker/index.js';
import { mountReadmePattern } from './readme-effect.svelte.js';

type Client = WebsocketClient<TestMeta, TestEvents, TestApi>;

let worker: RoomWorker;
beforeAll(async () => (worker = await startRoomWorker()));
afterAll(() => worker.dispose());

let rooms = 0;
const freshRoom = () => `client-${++rooms}-${Date.now()}`;

/** A client that joins as `meta` through the test worker's stand-in for the handle. */
function client(meta: TestMeta, options: WebsocketClientOptions<TestApi> = {}, on: () => RoomWorker = () => worker): Client {
	return new WebsocketClient<TestMeta, TestEvents, TestApi>({
		WebSocket,
		url: (room) => on().connectUrl(room, meta),
		random: noJitter,
		...options,
	});
}

/**
 * `closeAll` on the test room closes every socket from Workers RPC, without the room's closing
 * notice. Local workerd then leaves the TCP connection open, so the clients' sockets sit in
 * CLOSING and never fire `close`: what they notice is their next keep-alive ping failing. This
 * returns once the room has heard every client answer the close (so every socket is CLOSING).
 */
async function closeAllSilently(room: string): Promise<void> {
	await worker.rpc(room, 'closeAll', 1012, 'service restart');
	for (let i = 0; i < 100; i++) if ((await worker.rpc<unknown[]>(room, 'getSessions')).length === 0) return;
	throw new Error('the room still has sessions after closeAll');
}

const ids = (c: Client) => c.sessions.map((s) => s.ws_session_id);
const names = (c: Client) => c.sessions.map((s) => s.meta.user_id);

describe('state', () => {
	test('status and sessions are reactive; sessions change before listeners run', async () => {
		const room = freshRoom();
		const clock = new ManualClock();
		const ann = client({ user_id: 'ann' }, { clock });
		const statuses = observe(() => ann.status);
		const seen = observe(() => names(ann).join(','));
		const connected = observe(() => ann.connected);

		const listenerSaw: string[] = [];
		ann.on('session:connected', (s) => listenerSaw.push(`+${s.meta.user_id}:${ids(ann).includes(s.ws_session_id)}`));
		ann.on('session:disconnected', (s) => listenerSaw.push(`-${s.meta.user_id}:${ids(ann).includes(s.ws_session_id)}`));

		expect(ann.status).toBe('disconnected');
		const joining = ann.connect(room);
		expect(ann.status).toBe('connecting');
		await joining;
		// connect() resolves with the session list already applied.
		expect(names(ann)).toEqual(['ann']);

		const bob = client({ user_id: 'bob' }, { clock });
		await bob.connect(room);
		await until(() => ann.sessions.length === 2, 'ann to see bob');
		expect(names(bob)).toEqual(['ann', 'bob']);
		bob.disconnect();
		await until(() => ann.sessions.length === 1, 'ann to see bob leave');

		flushSync();
		expect(statuses.values).toEqual(['disconnected', 'connecting', 'connected']);
		expect(connected.values).toEqual([false, true]);
		expect(seen.values).toEqual(['', 'ann', 'ann,bob', 'ann']);
		// (Filtered to bob: whether a room also announces a joiner to itself is the room's business.)
		expect(listenerSaw.filter((e) => e.includes('bob'))).toEqual(['+bob:true', '-bob:false']);
		for (const o of [statuses, seen, connected]) o.stop();
		ann.destroy();
	});

	test('users group sessions by user_id and keep a leaving user for the grace period', async () => {
		const room = freshRoom();
		const clock = new ManualClock();
		const watcher = client({ user_id: 'wat' }, { clock, userLeaveGraceMs: 5_000 });
		await watcher.connect(room);
		const users = observe(() => watcher.users.map((u) => `${u.user_id}×${u.sessions.length}`).join(' '));

		const annTab1 = client({ user_id: 'ann', user_name: 'Ann' });
		const annTab2 = client({ user_id: 'ann', user_name: 'Ann B' });
		await annTab1.connect(room);
		await until(() => watcher.sessions.length === 2, 'first tab');
		await annTab2.connect(room);
		await until(() => watcher.sessions.length === 3, 'second tab');
		expect(watcher.users.find((u) => u.user_id === 'ann')?.meta.user_name).toBe('Ann B');

		annTab1.disconnect();
		await until(() => watcher.sessions.length === 2, 'first tab to leave');
		annTab2.disconnect();
		await until(() => watcher.sessions.length === 1, 'second tab to leave');
		// Ann's last session left, but she stays listed (without sessions) for the grace period.
		expect(watcher.users.map((u) => u.user_id)).toEqual(['wat', 'ann']);
		clock.advance(4_999);
		flushSync();
		expect(watcher.users.map((u) => u.user_id)).toEqual(['wat', 'ann']);

		// Back within the grace period: no flicker, the new session is hers.
		const annAgain = client({ user_id: 'ann' });
		await annAgain.connect(room);
		await until(() => watcher.sessions.length === 2, 'ann to come back');
		clock.advance(10_000);
		flushSync();
		expect(watcher.users.map((u) => `${u.user_id}×${u.sessions.length}`)).toEqual(['wat×1', 'ann×1']);

		// Gone for longer than the grace period: gone from users.
		annAgain.disconnect();
		await until(() => watcher.sessions.length === 1, 'ann to leave again');
		clock.advance(5_000);
		flushSync();
		expect(watcher.users.map((u) => u.user_id)).toEqual(['wat']);

		expect(users.values).toEqual(['wat×1', 'wat×1 ann×1', 'wat×1 ann×2', 'wat×1 ann×1', 'wat×1 ann×0', 'wat×1 ann×1', 'wat×1 ann×0', 'wat×1']);
		users.stop();
		watcher.destroy();
	});
});

describe('talking to the room', () => {
	test('typed rpc, send, events; on, once, off and "*"', async () => {
		const room = freshRoom();
		const ann = client({ user_id: 'ann' }, { clock: new ManualClock() });
		const bob = client({ user_id: 'bob' }, { clock: new ManualClock() });
		await ann.connect(room);
		await bob.connect(room);

		expect(await ann.rpc.add(2, 3)).toBe(5);
		expect(await ann.rpc.counter(1).increment(2).value()).toBe(3);
		expect(await ann.send('echo', { at: new Date(5), tags: new Set(['a']) })).toEqual({ at: new Date(5), tags: new Set(['a']) });
		expect(await ann.rpc.fail('nope').catch((e) => e)).toMatchObject({ code: 'nope', status: 409 });

		const all: string[] = [];
		const messages: string[] = [];
		const once: string[] = [];
		const offByRef: string[] = [];
		const stopAll = ann.on('*', (e) => {
			if (e.event === 'chat:message') all.push(`*${(e.data as TestEvents['chat:message']).text}`);
		});
		const stopMessages = ann.on('chat:message', (m) => messages.push(`${m.text}@${m.at.getTime()}`));
		ann.once('chat:message', (m) => once.push(m.text));
		const byRef = (m: TestEvents['chat:message']) => offByRef.push(m.text);
		ann.on('chat:message', byRef);
		const cancelledOnce = (m: TestEvents['chat:message']) => offByRef.push(`once:${m.text}`);
		ann.once('chat:message', cancelledOnce);
		ann.off('chat:message', cancelledOnce);

		// A throwing listener is reported and does not keep the others from running.
		const errors = spyOn(console, 'error').mockImplementation(() => {});
		ann.on('chat:message', () => {
			throw new Error('listener bug');
		});

		const first = nextEvent(ann, 'chat:message');
		await bob.rpc.post('one');
		await first;
		ann.off('chat:message', byRef);
		const second = nextEvent(ann, 'chat:message');
		await bob.rpc.post('two');
		await second;
		stopMessages();
		stopAll();
		const third = nextEvent(ann, 'chat:message');
		await bob.rpc.post('three');
		await third;
		const reported = errors.mock.calls.map((args) => String(args[0]));
		errors.mockRestore();

		expect(messages).toEqual(['one@0', 'two@0']);
		expect(all).toEqual(['*one', '*two']);
		expect(once).toEqual(['one']);
		expect(offByRef).toEqual(['one']);
		expect(reported).toEqual(Array(3).fill('@delightstack/websocket: a "chat:message" listener threw'));

		// The room refuses a reserved event name: send() rejects and an `error` event fires.
		const refused = nextEvent(ann, 'error');
		const sent = await ann.send('session:forged', 1).catch((e) => e);
		expect(sent).toBeInstanceOf(RoomError);
		expect(sent).toMatchObject({ code: 'forbidden_event', status: 403 });
		expect((await refused).code).toBe('forbidden_event');

		ann.destroy();
		bob.destroy();
	});

	test('before connect(), rpc and send say to connect; while connecting they reject with ConnectionLost', async () => {
		const ann = client({ user_id: 'ann' });
		const notConnected = { code: 'not_connected', message: 'Not in a room: call ws.connect(room) before calling the room' };
		expect(await ann.rpc.add(1, 1).catch((e) => e)).toMatchObject(notConnected);
		expect(await ann.send('echo', 1).catch((e) => e)).toMatchObject(notConnected);
		const joining = ann.connect(freshRoom());
		// Calls are never queued: before the join they fail as on a dropped socket.
		expect(await ann.rpc.add(1, 1).catch((e) => e)).toBeInstanceOf(ConnectionLost);
		await joining;
		ann.disconnect();
		expect(await ann.rpc.add(1, 1).catch((e) => e)).toMatchObject(notConnected);
		ann.destroy();
	});
});

describe('reconnecting', () => {
	test('after closeAll: half-closed sockets are caught by the keep-alive; everyone comes back once', async () => {
		const room = freshRoom();
		const clock = new ManualClock();
		const ann = client({ user_id: 'ann' }, { clock });
		const bob = client({ user_id: 'bob' }, { clock });
		await ann.connect(room);
		await bob.connect(room);
		await until(() => ann.sessions.length === 2, 'both in the room');
		const before = ids(ann);
		const sizes = observe(() => ann.sessions.length);
		const live = observe(() => ann.isLive);
		const events = recordEvents(ann);

		await closeAllSilently(room);
		expect([ann.status, bob.status]).toEqual(['connected', 'connected']); // no close event: half-closed
		const dropped = nextEvent(ann, 'ws:disconnected');
		clock.advance(30_000); // the keep-alive ping finds the socket no longer open
		expect(await dropped).toEqual({ room, code: 4000, reason: 'No pong within the keep-alive timeout', reconnecting: true });
		await until(() => ann.status === 'reconnecting' && bob.status === 'reconnecting', 'both reconnecting');

		// The backoff is 1 s (no jitter); nothing happens until it has passed.
		expect(ann.nextRetry).toEqual({ attempt: 1, at: clock.now() + 1_000 });
		// While reconnecting: the old presence stays (no flicker), the feed still counts as live,
		// and sends wait in the queue.
		expect(ann.sessions).toHaveLength(2);
		expect(ann.isLive).toBe(true);
		const queued = ann.send('echo', 'sent while down');

		const back = nextEvent(ann, 'ws:connected');
		clock.advance(1_000);
		expect(await back).toEqual({ room, reconnected: true });
		expect(await queued).toBe('sent while down');
		await until(() => bob.connected, 'bob back');
		await until(() => ann.sessions.length === 2 && bob.sessions.length === 2, 'presence settled');

		const server = (await worker.rpc<Array<{ ws_session_id: string }>>(room, 'getSessions')).map((s) => s.ws_session_id);
		expect(server).toHaveLength(2);
		expect(new Set(ids(ann))).toEqual(new Set(server));
		expect(new Set(ids(bob))).toEqual(new Set(server));
		expect(server.some((id) => before.includes(id))).toBe(false);
		// Never a ghost or a duplicate on the way: at most two sessions at any time.
		expect(Math.max(...sizes.values)).toBe(2);
		expect(live.values).toEqual([true]);
		expect(events.map((e) => e.event).filter((e) => e.startsWith('ws:'))).toEqual(['ws:disconnected', 'ws:connected']);
		sizes.stop();
		live.stop();
		ann.destroy();
		bob.destroy();
	});

	test('sends queued while connecting leave before a send made by a ws:connected listener', async () => {
		const room = freshRoom();
		const ann = client({ user_id: 'ann' });
		const joined = ann.connect(room);
		const queued = [ann.send('log', 1), ann.send('log', 2)];
		let fromListener: Promise<unknown> | undefined;
		ann.once('ws:connected', () => void (fromListener = ann.send('log', 0)));
		await joined;
		await Promise.all([...queued, fromListener]);
		expect(await worker.rpc(room, 'messages')).toEqual([1, 2, 0]);
		ann.destroy();
	});

	test('the send queue is bounded: the oldest send is dropped with a warning', async () => {
		const room = freshRoom();
		const clock = new ManualClock();
		const ann = client({ user_id: 'ann' }, { clock, sendQueueSize: 2 });
		await ann.connect(room);
		await closeAllSilently(room);
		clock.advance(30_000);
		expect(ann.status).toBe('reconnecting');

		const warning = nextEvent(ann, 'ws:warning');
		const a = ann.send('echo', 'a').catch((e) => e);
		const b = ann.send('echo', 'b');
		const c = ann.send('echo', 'c');
		expect(await a).toBeInstanceOf(SendDropped);
		expect(await warning).toMatchObject({ code: 'send_queue_full', event: 'echo' });

		clock.advance(1_000);
		expect(await Promise.all([b, c])).toEqual(['b', 'c']);

		// disconnect() drops what is still queued.
		await closeAllSilently(room);
		clock.advance(30_000);
		expect(ann.status).toBe('reconnecting');
		const d = ann.send('echo', 'd').catch((e) => e);
		ann.disconnect();
		expect(await d).toBeInstanceOf(SendDropped);
		ann.destroy();
	});

	test('server restart: retries back off while it is down, then everyone is back exactly once', async () => {
		let current = await startRoomWorker();
		const room = freshRoom();
		const clock = new ManualClock();
		const ann = client({ user_id: 'ann' }, { clock, liveGraceMs: 60_000 }, () => current);
		const bob = client({ user_id: 'bob' }, { clock }, () => current);
		try {
			await ann.connect(room);
			await bob.connect(room);
			await until(() => ann.sessions.length === 2, 'both in the room');
			const sizes = observe(() => ann.sessions.length);

			// A call under way when the server goes away rejects with ConnectionLost.
			const inflight = ann.rpc.slow(10_000).catch((e: unknown) => e);
			await new Promise((r) => setImmediate(r)); // the batch leaves at the end of the macrotask
			await current.dispose();
			expect(await inflight).toBeInstanceOf(ConnectionLost);
			await until(() => ann.status === 'reconnecting' && bob.status === 'reconnecting', 'both noticed');
			expect(ann.nextRetry?.attempt).toBe(1);
			// Sent while down: waits for the next connection.
			const queued = ann.send('echo', 'sent while down');

			// While the server is down, every retry fails and the next waits twice as long.
			const waits: number[] = [];
			for (let attempt = 1; attempt <= 6; attempt++) {
				const wait = ann.nextRetry!.at - clock.now();
				waits.push(wait);
				clock.advance(wait);
				await until(() => ann.nextRetry?.attempt === attempt + 1 && bob.nextRetry?.attempt === attempt + 1, `retry ${attempt} to fail`);
			}
			expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000]);
			// Down for over a minute: the change feed no longer counts as live.
			expect(ann.isLive).toBe(false);
			expect(ann.status).toBe('reconnecting');

			current = await startRoomWorker();
			clock.advance(ann.nextRetry!.at - clock.now());
			await until(() => ann.connected && bob.connected, 'both back');
			expect(await queued).toBe('sent while down');
			await until(() => ann.sessions.length === 2 && bob.sessions.length === 2, 'presence settled');
			const server = (await current.rpc<Array<{ ws_session_id: string }>>(room, 'getSessions')).map((s) => s.ws_session_id);
			expect(new Set(ids(ann))).toEqual(new Set(server));
			expect(new Set(ids(bob))).toEqual(new Set(server));
			expect(server).toHaveLength(2);
			// The old presence was kept while down and replaced, never added to.
			expect(Math.max(...sizes.values)).toBe(2);
			sizes.stop();
			expect(ann.isLive).toBe(true);
			expect(ann.error).toBeNull();
		} finally {
			ann.destroy();
			bob.destroy();
			await current.dispose();
		}
	}, 30_000);

	test('kick is terminal: no reconnect, error set, presence cleared; connect() starts over', async () => {
		const room = freshRoom();
		const clock = new ManualClock();
		const ann = client({ user_id: 'ann' }, { clock });
		await ann.connect(room);
		const { id } = await ann.rpc.whoami();
		const errorEvent = nextEvent(ann, 'error');
		const dropped = nextEvent(ann, 'ws:disconnected');
		// What a listener sees: the state already updated.
		const inListener = new Promise((resolve) =>
			ann.once('ws:disconnected', () => resolve({ status: ann.status, sessions: ann.sessions.length, error: ann.error?.code, live: ann.isLive })),
		);

		await worker.rpc(room, 'kick', id, 'bye');
		expect(await dropped).toEqual({ room, code: 4001, reason: 'bye', reconnecting: false });
		expect(await inListener).toEqual({ status: 'disconnected', sessions: 0, error: 'kicked', live: false });
		expect(ann.status).toBe('disconnected');
		expect(ann.error).toBeInstanceOf(ClosedByRoom);
		expect(ann.error).toMatchObject({ code: 'kicked', closeCode: 4001, reason: 'bye' });
		expect(await errorEvent).toMatchObject({ code: 'kicked', status: 403 });
		expect(ann.sessions).toEqual([]);
		expect(ann.isLive).toBe(false);
		expect(ann.nextRetry).toBeNull();
		// No retry is scheduled, however long we wait; the room has nobody.
		expect(clock.pending()).toEqual([]);
		clock.advance(10 * 60_000);
		expect(ann.status).toBe('disconnected');
		expect(await worker.rpc<unknown[]>(room, 'getSessions')).toEqual([]);
		expect(await ann.send('echo', 1).catch((e) => e)).toBeInstanceOf(ConnectionLost);

		// A deliberate connect() is allowed, and clears the error once joined.
		await ann.connect(room);
		expect(ann.error).toBeNull();
		expect(names(ann)).toEqual(['ann']);
		ann.destroy();
	});
});

describe('lifecycle', () => {
	test('switching rooms resets presence and only hears the new room', async () => {
		const [roomA, roomB] = [freshRoom(), freshRoom()];
		const clock = new ManualClock();
		const bob = client({ user_id: 'bob' }, { clock });
		const cid = client({ user_id: 'cid' }, { clock });
		await bob.connect(roomA);
		await cid.connect(roomB);

		const ann = client({ user_id: 'ann' }, { clock });
		const events = recordEvents(ann);
		await ann.connect(roomA);
		await until(() => ann.sessions.length === 2, 'ann in A');
		const seen = observe(() => names(ann).join(','));

		const bobSawLeave = nextEvent(bob, 'session:disconnected');
		const joinedB = ann.connect(roomB);
		expect(ann.room).toBe(roomB);
		expect(ann.sessions).toEqual([]); // reset at once, not when B answers
		await joinedB;
		expect(names(ann)).toEqual(['cid', 'ann']);
		expect((await bobSawLeave).meta.user_id).toBe('ann');

		// A's broadcast is not delivered; B's is.
		await bob.rpc.post('from A');
		const fromB = nextEvent(ann, 'chat:message');
		await cid.rpc.post('from B');
		expect((await fromB).text).toBe('from B');
		expect(events.filter((e) => e.event === 'chat:message').map((e) => e.data.text)).toEqual(['from B']);

		const lifecycle = events.filter((e) => e.event.startsWith('ws:')).map((e) => [e.event, e.data.room, e.data.reconnected ?? e.data.reconnecting]);
		expect(lifecycle).toEqual([
			['ws:connected', roomA, false],
			['ws:disconnected', roomA, false],
			['ws:connected', roomB, false],
		]);
		flushSync();
		expect(seen.values).toEqual(['bob,ann', '', 'cid,ann']);
		seen.stop();

		// Switching before the first room answered: that connect() rejects, the second wins.
		const toA = ann.connect(roomA);
		const toB = ann.connect(roomB);
		expect(await toA.catch((e) => e)).toBeInstanceOf(ConnectionLost);
		await toB;
		expect(ann.room).toBe(roomB);
		await until(() => ann.connected, 'ann in B');
		for (const c of [ann, bob, cid]) c.destroy();
	});

	test('disconnect keeps listeners; destroy removes them and refuses to connect again', async () => {
		const room = freshRoom();
		const clock = new ManualClock();
		const bob = client({ user_id: 'bob' }, { clock });
		await bob.connect(room);
		const ann = client({ user_id: 'ann' }, { clock });
		const joins: boolean[] = [];
		ann.on('ws:connected', (e) => joins.push(e.reconnected));

		await ann.connect(room);
		ann.disconnect();
		expect(ann.status).toBe('disconnected');
		expect(ann.room).toBeNull();
		expect(ann.sessions).toEqual([]);
		await ann.connect(room);
		expect(joins).toEqual([false, false]);

		const messages: string[] = [];
		ann.on('chat:message', (m) => messages.push(m.text));
		const left = nextEvent(bob, 'session:disconnected');
		ann.destroy();
		expect((await left).meta.user_id).toBe('ann');
		expect(ann.status).toBe('disconnected');
		expect(await ann.connect(room).catch((e) => e)).toMatchObject({ code: 'destroyed' });
		await bob.rpc.post('after destroy');
		expect(messages).toEqual([]);
		// Nothing left running: no ping, no retry, no grace timer of ann's.
		bob.destroy();
		expect(clock.pending()).toEqual([]);
	});
});

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
		expect(await rpc.add(1, 1).catch((e) => e)).toMatchObject({
			code: 'not_connected',
			message: 'Not in a room: call ws.connect(room) before calling the room',
		});
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

	test('a RoomError thrown by a method is a RoomError at the caller, on the fast path and through a session', async () => {
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
		let fromRoom: TransportHandlers | undefined;
		const ws = client(
			{ user_id: 'ann' },
			{
				transport: (listener) => {
					fromRoom = listener;
					return new SocketTransport<RoomRpc<TestApi>>(listener, { url: (room) => worker.connectUrl(room, { user_id: 'ann' }), WebSocket });
				},
			},
		);
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
