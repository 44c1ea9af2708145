import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { ConnectionLost } from '../../rpc/errors.js';
import { Probe, joinInTurn } from '../support/probe.js';
import { startRoomWorker, type RoomWorker } from '../support/workerd.js';

let worker: RoomWorker;
beforeAll(async () => (worker = await startRoomWorker()));
afterAll(() => worker.dispose());

let rooms = 0;
const freshRoom = () => `rpc-${++rooms}-${Date.now()}`;

/** Counts frames each way on a probe's socket. */
function countFrames(p: Probe) {
	const counts = { out: [] as string[], replies: 0 };
	const socket = p.conn.socket;
	const send = socket.send.bind(socket);
	socket.send = (data: any) => (counts.out.push(String(data)), send(data));
	socket.addEventListener('message', (e) => String(e.data).startsWith('r') && counts.replies++);
	return counts;
}

describe('batches', () => {
	test('three dependent calls travel in one frame each way', async () => {
		const a = await Probe.join(worker, freshRoom(), { user_id: 'ann' });
		const frames = countFrames(a);
		expect(await a.rpc.counter(1).increment(2).value()).toBe(3);
		expect(frames.out).toHaveLength(1);
		expect(frames.out[0]!.split('\n').filter((m) => m.startsWith('["push"'))).toHaveLength(3);
		expect(frames.replies).toBe(1);

		// Independent calls made in the same tick share a frame too.
		const [sum, who, echoed] = await Promise.all([a.rpc.add(2, 3), a.rpc.whoami(), a.rpc.echo({ d: new Date(7), n: 10n })]);
		expect([sum, who.id, echoed]).toEqual([5, a.id, { d: new Date(7), n: 10n }]);
		expect(frames.out).toHaveLength(2);
		expect(frames.replies).toBe(2);
		await a.close();
	});

	test('50 clients calling at once each get their own answers', async () => {
		const room = freshRoom();
		const probes = await Promise.all(Array.from({ length: 50 }, (_, i) => Probe.join(worker, room, { user_id: `u${i}` })));
		const answers = await Promise.all(probes.map((p, i) => Promise.all([p.rpc.whoami(), p.rpc.echo(`secret-${i}`), p.rpc.counter(i).increment(i).value()])));
		answers.forEach(([who, echoed, doubled], i) => {
			expect(who as object).toEqual({ id: probes[i]!.id, meta: { user_id: `u${i}` } });
			expect(echoed).toBe(`secret-${i}`);
			expect(doubled).toBe(2 * i);
		});
		await Promise.all(probes.map((p) => p.close()));
	});
});

describe('calls nobody awaits', () => {
	test('a broadcasting call not awaited sends the call alone; the caller gets the broadcast and no reply frame', async () => {
		const room = freshRoom();
		const a = await Probe.join(worker, room, { user_id: 'ann' });
		const b = await Probe.join(worker, room, { user_id: 'bob' });
		const frames = countFrames(a);
		const answers: string[] = [];
		a.conn.socket.addEventListener('message', (e) => /^[rx]/.test(String(e.data)) && answers.push(String(e.data)));
		void a.rpc.post('fire and forget');
		expect(await a.next('chat:message')).toMatchObject({ text: 'fire and forget', from: 'ann' });
		expect(await b.next('chat:message')).toMatchObject({ text: 'fire and forget', from: 'ann' });
		expect(frames.out).toHaveLength(1);
		expect(
			frames.out[0]!.split('\n')
				.slice(1)
				.map((line) => line.slice(0, 7)),
		).toEqual(['["push"']);
		// An awaited call after it is answered; had the first had a reply, it would have come first.
		expect(await a.rpc.add(1, 2)).toBe(3);
		expect(answers.map((frame) => frame.split('\n')[0])).toEqual(['r2']);
		await Promise.all([a.close(), b.close()]);
	});

	test('awaiting such a call after its batch left rejects with batch_ended', async () => {
		const a = await Probe.join(worker, freshRoom(), { user_id: 'ann' });
		const late = a.rpc.post('then awaited');
		await a.next('chat:message');
		expect(await Promise.resolve(late).catch((e: unknown) => e)).toMatchObject({ code: 'batch_ended' });
		expect(await a.rpc.add(2, 2)).toBe(4);
		await a.close();
	});

	test('a refused call nobody awaits comes back as an error event', async () => {
		const a = await Probe.join(worker, freshRoom(), { user_id: 'ann' });
		void (a.rpc as any).nosuch(1);
		expect(await a.next('error')).toMatchObject({ code: 'unknown_method', status: 404 });
		expect(await a.rpc.add(1, 1)).toBe(2);
		await a.close();
	});
});

describe('errors', () => {
	test('a RoomError keeps its code and status; any other error arrives as method_failed with its message', async () => {
		const a = await Probe.join(worker, freshRoom(), { user_id: 'ann' });
		expect(await a.rpc.fail('sold_out').catch((e) => e)).toMatchObject({ code: 'sold_out', status: 409, message: 'failed with sold_out' });
		expect(await a.rpc.crash().catch((e) => e)).toMatchObject({ code: 'method_failed', status: 500, message: 'plain crash' });
		// A failing call does not poison its frame's siblings.
		const [ok, bad] = await Promise.allSettled([a.rpc.add(1, 1), a.rpc.crash()]);
		expect(ok).toEqual({ status: 'fulfilled', value: 2 });
		expect(bad.status).toBe('rejected');
		await a.close();
	});

	test('an unknown method is refused by name', async () => {
		const a = await Probe.join(worker, freshRoom(), { user_id: 'ann' });
		const err: any = await (a.rpc as any).nosuch(1).catch((e: unknown) => e);
		expect(err).toMatchObject({ code: 'unknown_method', status: 404, message: 'The room has no method "nosuch"' });
		await a.close();
	});

	test('an invalid batch gets an error event and the socket stays open', async () => {
		const a = await Probe.join(worker, freshRoom(), { user_id: 'ann' });
		a.raw('c9\n["push",');
		expect(await a.next('error')).toMatchObject({ code: 'bad_request', status: 400 });
		expect(await a.rpc.add(1, 2)).toBe(3);
		await a.close();
	});

	test('a call that outlives its timeout rejects with CallTimeout; the socket keeps working', async () => {
		const a = await Probe.join(worker, freshRoom(), { user_id: 'ann' }, { callTimeoutMs: 300 });
		const err: any = await a.rpc.slow(1_500).catch((e) => e);
		expect(err).toMatchObject({ name: 'CallTimeout', code: 'timeout', status: 504 });
		expect(await a.rpc.add(1, 1)).toBe(2);
		await a.close();
	});

	test('calls pending when the socket drops reject with ConnectionLost, and later ones fail fast', async () => {
		const room = freshRoom();
		const a = await Probe.join(worker, room, { user_id: 'ann' });
		const pending = a.rpc.slow(10_000).catch((e) => e);
		await worker.rpc(room, 'kick', a.id, 'bye');
		const err = await pending;
		expect(err).toBeInstanceOf(ConnectionLost);
		expect(err).toMatchObject({ code: 'connection_lost' });
		expect(await a.rpc.add(1, 1).catch((e) => e)).toBeInstanceOf(ConnectionLost);
	});
});

describe('security: browsers reach only the API class', () => {
	const unreachable = [
		// the room's server-side API and hooks
		'broadcast',
		'sendTo',
		'getSessions',
		'kick',
		'onConnect',
		'onDisconnect',
		'onMessage',
		// the runtime's entry points and the Durable Object's fields
		'fetch',
		'webSocketMessage',
		'webSocketClose',
		'webSocketError',
		'alarm',
		'ctx',
		'env',
		// test-only room methods
		'stats',
		'corrupt',
		'closeAll',
		// the API instance's own fields and anything on Object.prototype
		'room',
		'session',
		'constructor',
		'__proto__',
		'toString',
		'valueOf',
		'hasOwnProperty',
		'__defineGetter__',
	];

	test.each(unreachable)('%s', async (name) => {
		const room = freshRoom();
		const [a, b] = await joinInTurn(worker, room, [{ user_id: 'ann' }, { user_id: 'bob' }]);
		const answer = await a!.batch(1, [
			['push', ['pipeline', 0, [name], ['chat:message', { text: 'pwned' }]]],
			['pull', 1],
		]);
		expect(answer.startsWith('x1\n')).toBe(true);
		expect(JSON.parse(answer.slice(3))).toMatchObject({ code: 'unknown_method', status: 404 });
		// Nothing happened: nobody was told anything, nobody was removed.
		expect(await b!.rpc.add(0, 0)).toBe(0);
		expect(b!.names()).toEqual(['session:list']);
		expect((await worker.rpc<any[]>(room, 'getSessions')).length).toBe(2);
		await Promise.all([a!.close(), b!.close()]);
	});

	test.each([
		['a method of a method', ['whoami', 'constructor']],
		['Function.prototype.call', ['add', 'call']],
		['Function.prototype.apply', ['add', 'apply']],
		['the API class through __proto__', ['__proto__', 'constructor']],
		['the room through a getter chain', ['version', 'constructor']],
	])('a path can not climb out: %s', async (_, path) => {
		const a = await Probe.join(worker, freshRoom(), { user_id: 'ann' });
		const answer = await a.batch(1, [
			['push', ['pipeline', 0, path, []]],
			['pull', 1],
		]);
		// Either refused up front, or the call rejects: never a resolved value.
		expect(answer.includes('"resolve"')).toBe(false);
		expect(answer.startsWith('x1\n') || answer.includes('"reject"')).toBe(true);
		expect(await a.rpc.add(1, 1)).toBe(2);
		await a.close();
	});

	test("an argument can not smuggle a reference to the API's fields", async () => {
		const a = await Probe.join(worker, freshRoom(), { user_id: 'ann' });
		for (const field of ['room', 'session']) {
			const answer = await a.batch(1, [
				['push', ['pipeline', 0, ['echo'], [['pipeline', 0, [field]]]]],
				['pull', 1],
			]);
			// Refused before anything runs: arguments never reference the API object itself.
			expect(answer.startsWith('x1\n')).toBe(true);
			expect(JSON.parse(answer.slice(3))).toMatchObject({ code: 'bad_request', status: 400 });
		}
		await a.close();
	});

	test('a remap over the API is checked like a call', async () => {
		const a = await Probe.join(worker, freshRoom(), { user_id: 'ann' });
		const answer = await a.batch(1, [
			['push', ['remap', 0, ['kick'], [], []]],
			['pull', 1],
		]);
		expect(JSON.parse(answer.slice(3))).toMatchObject({ code: 'unknown_method' });
		await a.close();
	});

	test('the browser-facing API lists exactly the declared methods', async () => {
		const names = (await (await fetch(`${worker.origin}/callable/x`)).json()) as string[];
		expect(names.sort()).toEqual(['~event', '~presence', 'add', 'counter', 'crash', 'echo', 'fail', 'post', 'slow', 'version', 'whoami'].sort());
	});
});
