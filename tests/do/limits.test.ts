import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Probe, joinInTurn } from '../support/probe.js';
import { startRoomWorker, type RoomWorker } from '../support/workerd.js';

let worker: RoomWorker;
beforeAll(async () => (worker = await startRoomWorker()));
afterAll(() => worker.dispose());

let rooms = 0;
const freshRoom = () => `limits-${++rooms}-${Date.now()}`;
const calls = (p: Probe, n: number) => Promise.all(Array.from({ length: n }, (_, i) => p.rpc.add(i, 1)));

describe('bad input gets a clear error and the socket stays open', () => {
	test('binary frame → error 400', async () => {
		const a = await Probe.join(worker, freshRoom(), { user_id: 'ann' });
		a.raw(new Uint8Array([1, 2, 3]).buffer);
		expect(await a.next('error')).toMatchObject({ code: 'bad_request', status: 400, message: expect.stringContaining('Binary') });
		expect(await a.rpc.add(1, 2)).toBe(3);
		await a.close();
	});

	test('oversized frame → 413 for that batch, counted in UTF-8 bytes', async () => {
		const a = await Probe.join(worker, freshRoom(), { user_id: 'ann' });
		const tooBig: any = await a.rpc.echo('x'.repeat(70_000)).catch((e) => e);
		expect(tooBig).toMatchObject({ code: 'payload_too_large', status: 413 });
		expect(await a.next('error')).toMatchObject({ code: 'payload_too_large', status: 413 });
		// 30 000 characters, 90 000 bytes: still too big.
		const multiByte: any = await a.rpc.echo('€'.repeat(30_000)).catch((e) => e);
		expect(multiByte.code).toBe('payload_too_large');
		// Just under the limit in bytes passes.
		expect(await a.rpc.echo('€'.repeat(21_000))).toHaveLength(21_000);
		await a.close();
	});

	test('malformed frames → 400, each one', async () => {
		const a = await Probe.join(worker, freshRoom(), { user_id: 'ann' });
		const cases: Array<[string, RegExp]> = [
			['hello', /Expected a call frame/],
			['c1\nnot json', /not valid JSON/],
			['c2\n["bogus",1]', /may only push, pull and release/],
			['c3\n{"push":1}', /not a capnweb message/],
			['r4\n["push",["pipeline",0,["add"],[1,2]]]', /Expected a call frame/],
			['c5\n["push",["pipeline",0,["~event"],[]]]', /non-empty string name/],
		];
		for (const [frame, message] of cases) {
			a.raw(frame);
			expect(await a.next('error')).toMatchObject({ code: 'bad_request', status: 400, message: expect.stringMatching(message) });
		}
		expect(await a.rpc.add(2, 2)).toBe(4);
		await a.close();
	});

	test('clients may not speak for the room: session:*, entity:* and error are refused', async () => {
		const a = await Probe.join(worker, freshRoom(), { user_id: 'ann' });
		for (const name of ['session:connected', 'session:list', 'entity:created', 'entity:deleted', 'error']) {
			const err: any = await a.conn.send(name, {}).catch((e) => e);
			expect(err).toMatchObject({ code: 'forbidden_event', status: 403 });
		}
		expect(await a.conn.send('echo', 1)).toBe(1);
		await a.close();
	});
});

describe('rate limits', () => {
	test('30 tokens per user: a batch of 31 runs 30 and refuses the 31st; others are unaffected', async () => {
		const room = freshRoom();
		const [a, b] = await joinInTurn(worker, room, [{ user_id: 'ann' }, { user_id: 'bob' }]);
		const results = await Promise.allSettled(Array.from({ length: 31 }, (_, i) => a!.rpc.add(i, 1)));
		expect(results.slice(0, 30).every((r) => r.status === 'fulfilled')).toBe(true);
		expect(results[30]).toMatchObject({ status: 'rejected', reason: { code: 'rate_limited', status: 429 } });
		// The bucket is empty now: a lone call is refused whole, and so are events.
		const again: any = await a!.rpc.add(1, 1).catch((e) => e);
		expect(again).toMatchObject({ code: 'rate_limited', status: 429 });
		const event: any = await a!.conn.send('echo', 1).catch((e) => e);
		expect(event.code).toBe('rate_limited');
		// Bob has his own bucket and still hears the room.
		expect(await calls(b!, 30)).toHaveLength(30);
		await worker.rpc(room, 'broadcast', 'chat:message', { text: 'still here' });
		expect(await a!.next('chat:message')).toEqual({ text: 'still here' });
		await Promise.all([a!.close(), b!.close()]);
	});

	test('cursor: events spend from their own cheaper bucket of 60', async () => {
		const a = await Probe.join(worker, freshRoom(), { user_id: 'ann' });
		await calls(a, 30); // the main bucket is now empty
		const moves = Array.from({ length: 60 }, (_, i) => a.conn.send('cursor:move', { x: i, y: i }));
		expect(await Promise.all(moves)).toHaveLength(60);
		const sixtyFirst: any = await a.conn.send('cursor:move', { x: 0, y: 0 }).catch((e) => e);
		expect(sixtyFirst.code).toBe('rate_limited');
		await a.close();
	});

	test('a flood of refused frames closes that socket (1008) and does not hurt the room', async () => {
		const room = freshRoom();
		const [bad, good] = await joinInTurn(worker, room, [{ user_id: 'bad' }, { user_id: 'good' }]);
		for (let i = 0; i < 300; i++) bad!.raw(i % 2 ? 'garbage' : `c${i}\n["push",["pipeline",0,["nosuch"],[1,1]]]`);
		expect(await bad!.closed).toMatchObject({ code: 1008, reason: expect.stringContaining('too_many_refusals') });
		expect(bad!.names().filter((n) => n === 'error').length).toBeLessThanOrEqual(20);
		expect(await good!.rpc.add(20, 22)).toBe(42);
		expect((await good!.next('session:disconnected')).ws_session_id).toBe(bad!.id);
		expect((await worker.rpc<any[]>(room, 'getSessions')).map((s) => s.meta.user_id)).toEqual(['good']);
		await good!.close();
	});
});
