/**
 * Real eviction: these tests idle past workerd's ~10 s eviction of an idle Durable Object, the one
 * place where waiting on the clock is the point. Clients join one at a time (overlapping upgrades
 * keep a local room from being evicted).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { CloseCode } from '../../rpc/protocol.js';
import { PING, PONG } from '../../rpc/frame.js';
import { Probe, joinInTurn } from '../support/probe.js';
import { startRoomWorker, type RoomWorker } from '../support/workerd.js';

let worker: RoomWorker;
beforeAll(async () => (worker = await startRoomWorker()));
afterAll(() => worker.dispose());

const EVICTION_IDLE_MS = 12_000;
const idle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Stats {
	instanceId: string;
	counters: Record<string, number>;
}

test('after eviction: same sockets, same sessions and meta, same rate-limit state, corrupt attachment closes only its socket', async () => {
	const room = `evict-${Date.now()}`;
	const [a, b, c] = await joinInTurn(worker, room, [{ user_id: 'ann', user_name: 'Ann' }, { user_id: 'bob' }, { user_id: 'cid' }]);
	const before = await worker.rpc<Stats>(room, 'stats');
	// Every call costs a token, pipelined ones included: 3 + 7 = 10 of ann's 30 spent.
	expect(await a!.rpc.counter(1).increment(2).value()).toBe(3);
	await Promise.all(Array.from({ length: 7 }, () => a!.rpc.add(0, 0)));
	// Dan spends his whole bucket and leaves before the idle: his buckets go to storage.
	const dan = await Probe.join(worker, room, { user_id: 'dan' });
	expect(await Promise.all(Array.from({ length: 30 }, () => dan.rpc.add(0, 0)))).toHaveLength(30);
	await dan.close();
	for (const p of [a!, b!]) expect((await p.next('session:disconnected')).ws_session_id).toBe(dan.id);
	await worker.rpc(room, 'corrupt', c!.id);

	await idle(EVICTION_IDLE_MS);

	// The first frame after the idle wakes a new instance: same socket, same session, same meta.
	expect((await a!.rpc.whoami()) as object).toEqual({ id: a!.id, meta: { user_id: 'ann', user_name: 'Ann' } });
	const after = await worker.rpc<Stats>(room, 'stats');
	expect(after.instanceId).not.toBe(before.instanceId);
	expect(after.counters.constructed).toBeGreaterThan(before.counters.constructed!);
	// Pipelining still works.
	expect(await a!.rpc.counter(5).increment(1).value()).toBe(6);
	// 20 + ~1.2 refilled - 1 - 3 = 17.2 left (a fresh bucket would hold 26): of 18 calls, 17 pass.
	const settled = await Promise.allSettled(Array.from({ length: 18 }, () => a!.rpc.add(1, 1)));
	expect(settled.filter((r) => r.status === 'fulfilled')).toHaveLength(17);
	expect(settled[17]).toMatchObject({ status: 'rejected', reason: { code: 'rate_limited' } });

	// The socket whose attachment was corrupted is closed with 1011 and announced as gone.
	expect((await c!.closed).code).toBe(CloseCode.InternalError);
	for (const p of [a!, b!]) expect((await p.next('session:disconnected')).ws_session_id).toBe(c!.id);
	const sessions = await worker.rpc<any[]>(room, 'getSessions');
	expect(sessions.map((s) => [s.ws_session_id, s.meta.user_id])).toEqual([
		[a!.id, 'ann'],
		[b!.id, 'bob'],
	]);

	// Events flow on the same sockets.
	await b!.conn.send('relay', { at: new Date(1), map: new Map(), set: new Set(), big: 1n, nothing: undefined });
	expect((await a!.next('rich')).big).toBe(1n);

	// Dan comes back after the eviction: his bucket is as he left it plus ~1.3 tokens, not full.
	const back = await Probe.join(worker, room, { user_id: 'dan' });
	const tries = await Promise.allSettled([0, 1, 2].map(() => back.rpc.add(0, 0)));
	expect(tries.filter((r) => r.status === 'fulfilled').length).toBeLessThanOrEqual(1);
	await Promise.all([a!.close(), b!.close(), back.close()]);
}, 60_000);

test('after eviction, a call from one socket first: the whole room is still there for the next call, broadcast, leave and join', async () => {
	const room = `evict-first-${Date.now()}`;
	// Ann has two sockets; her second spends 20 of their shared 30 call tokens, so her first socket's
	// attachment holds the older, fuller copy of her buckets.
	const [ann, bob, ann2, cid] = await joinInTurn(worker, room, [{ user_id: 'ann' }, { user_id: 'bob' }, { user_id: 'ann' }, { user_id: 'cid' }]);
	await Promise.all(Array.from({ length: 20 }, () => ann2!.rpc.add(0, 0)));
	const before = await worker.rpc<Stats>(room, 'stats');

	await idle(EVICTION_IDLE_MS);

	// Ann's other socket wakes the room: her buckets are the ones her second socket spent from.
	expect((await ann!.rpc.whoami()) as object).toEqual({ id: ann!.id, meta: { user_id: 'ann' } });
	expect((await worker.rpc<Stats>(room, 'stats')).instanceId).not.toBe(before.instanceId);
	// 10 + ~1.2 refilled - 1 = ~10.2 left: of 12 calls, 10 pass, whichever of her sockets makes them.
	const settled = await Promise.allSettled([...Array.from({ length: 6 }, () => ann!.rpc.add(1, 1)), ...Array.from({ length: 6 }, () => ann2!.rpc.add(1, 1))]);
	expect(settled.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
	// Bob's own bucket was never touched.
	expect(await Promise.all(Array.from({ length: 12 }, () => bob!.rpc.add(1, 1)))).toHaveLength(12);

	// A broadcast reaches every socket; the sessions are the four, in the order they joined.
	await cid!.rpc.post('after the wake');
	for (const p of [ann!, bob!, ann2!, cid!]) expect((await p.next('chat:message')).text).toBe('after the wake');
	const sessions = await worker.rpc<any[]>(room, 'getSessions');
	expect(sessions.map((s) => s.ws_session_id)).toEqual([ann!.id, bob!.id, ann2!.id, cid!.id]);

	// A leave is announced to the three left with their count; a joiner is listed after the four.
	await cid!.close();
	for (const p of [ann!, bob!, ann2!]) expect(await p.next('session:disconnected')).toMatchObject({ ws_session_id: cid!.id, num_connections: 3 });
	const dan = await Probe.join(worker, room, { user_id: 'dan' });
	const list = dan.events.find((e) => e.name === 'session:list')!.data;
	expect(list.sessions.map((s: { ws_session_id: string }) => s.ws_session_id)).toEqual([ann!.id, bob!.id, ann2!.id, dan.id]);
	for (const p of [ann!, bob!, ann2!]) expect((await p.next('session:connected')).ws_session_id).toBe(dan.id);
	await Promise.all([ann!.close(), bob!.close(), ann2!.close(), dan.close()]);
}, 60_000);

test('keep-alive pings are answered by the runtime, run no handler, and do not keep the room awake', async () => {
	const room = `keepalive-${Date.now()}`;
	const ws = new WebSocket(worker.connectUrl(room, { user_id: 'pinger' }));
	const frames: string[] = [];
	let onFrame = () => {};
	ws.addEventListener('message', (e) => {
		frames.push(String(e.data));
		onFrame();
	});
	const nextFrame = () => new Promise<string>((resolve) => (onFrame = () => resolve(frames.at(-1)!)));
	await nextFrame(); // session:list
	const before = await worker.rpc<Stats>(room, 'stats');

	let pongs = 0;
	const pings = 8; // one every 3 s: 24 s, well past eviction
	for (let i = 0; i < pings; i++) {
		await idle(3_000);
		const answer = nextFrame();
		ws.send(PING);
		expect(await answer).toBe(PONG);
		pongs++;
	}
	const after = await worker.rpc<Stats>(room, 'stats');
	expect(pongs).toBe(pings);
	expect(after.counters.message ?? 0).toBe(before.counters.message ?? 0);
	expect(after.instanceId).not.toBe(before.instanceId);
	ws.close();
}, 60_000);
