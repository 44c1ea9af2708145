/**
 * The call path tried as an attacker would, against rooms in workerd (tests/worker: `TestRoom` with
 * the default limits, `StrictRoom` with tight ones for rooms named `strict-…`). Each test counts
 * the frames it tried, checks that another member still hears the room, and that nothing was lost.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { encodePayload } from '../../rpc/payload.js';
import { CloseCode } from '../../rpc/protocol.js';
import { Probe, joinInTurn } from '../support/probe.js';
import { startRoomWorker, type RoomWorker } from '../support/workerd.js';

let worker: RoomWorker;
/** Everything the workerd process logged, for the log-injection test. */
let log = '';
beforeAll(async () => {
	worker = await startRoomWorker({
		handleRuntimeStdio(stdout, stderr) {
			for (const stream of [stdout, stderr]) stream.on('data', (chunk: Buffer) => (log += chunk.toString()));
		},
	});
});
afterAll(() => worker.dispose());

let rooms = 0;
const freshRoom = (prefix = 'sec') => `${prefix}-${++rooms}-${Date.now()}`;

const event = (name: string, data: unknown) => ['pipeline', 0, ['~event'], [name, encodePayload(data)]];
const call = (method: string, ...args: unknown[]) => ['pipeline', 0, [method], args];

/** The refusal in an `x<id>` frame, or `undefined` for an `r<id>` answer. */
function refusal(frame: string): { code: string; status: number; message: string } | undefined {
	return frame.startsWith('x') ? JSON.parse(frame.slice(frame.indexOf('\n') + 1)) : undefined;
}

/** The room still works for `other`: a broadcast from server code reaches it, and its calls run. */
async function roomStillServes(room: string, other: Probe) {
	await worker.rpc(room, 'broadcast', 'chat:message', { text: 'still here' });
	expect(await other.next('chat:message')).toEqual({ text: 'still here' });
	expect(await other.rpc.add(2, 3)).toBe(5);
}

describe('1. every expression is checked, not only the top-level call', () => {
	const forged = [
		['an import expression with arguments', [['push', ['import', 0, ['~event'], ['session:connected', encodePayload({ ws_session_id: 'x' })]]]]],
		[
			'a call nested in another call',
			[
				['push', call('echo', event('entity:updated', { room: 'r', seq: 2 ** 53, entity_type: 'todo', id: 1 }))],
				['pull', 1],
			],
		],
		[
			'a call nested in an Error argument',
			[
				['push', call('echo', ['error', 'Error', 'x', undefined, { p: event('session:connected', {}) }])],
				['pull', 1],
			],
		],
		[
			'a reference to the API object in arguments',
			[
				['push', call('echo', ['pipeline', 0])],
				['pull', 1],
			],
		],
		[
			'a copy of the API object, then a call on it',
			[
				['push', ['pipeline', 0, []]],
				['push', ['pipeline', 1, ['~event'], ['session:connected', encodePayload({})]]],
				['pull', 2],
			],
		],
		[
			'the event entry point on a result',
			[
				['push', call('whoami')],
				['push', ['pipeline', 1, ['~event'], ['session:connected', encodePayload({})]]],
				['pull', 2],
			],
		],
		[
			'a remap whose callback calls the room',
			[
				['push', call('echo', [[1, 2, 3]])],
				[
					'push',
					[
						'remap',
						1,
						[],
						[['import', 0]],
						[
							['pipeline', -1, ['~event'], ['session:connected', {}]],
							['pipeline', 1],
						],
					],
				],
				['pull', 2],
			],
		],
		[
			'a remap whose callback calls the element',
			[
				['push', call('counter', 1)],
				[
					'push',
					[
						'remap',
						1,
						[],
						[],
						[
							['pipeline', 0, ['increment'], [1]],
							['pipeline', 1],
						],
					],
				],
				['pull', 2],
			],
		],
		[
			'a client-local event name',
			[
				['push', event('ws:connected', {})],
				['pull', 1],
			],
		],
		[
			'the catch-all name',
			[
				['push', event('*', {})],
				['pull', 1],
			],
		],
	] as const;

	test.each(forged)('%s is refused whole; the victim hears nothing forged', async (_, messages) => {
		const room = freshRoom();
		const [attacker, victim] = await joinInTurn(worker, room, [{ user_id: 'mallory' }, { user_id: 'victim' }]);
		const answer = await attacker!.batch(1, messages as unknown as unknown[]);
		expect(refusal(answer)?.status).toBeOneOf([400, 403, 404]);
		await roomStillServes(room, victim!);
		// Only the room's own events reached the victim: its list, the attacker's join, the broadcast.
		expect(victim!.names()).toEqual(['session:list', 'chat:message']);
		await Promise.all([attacker!.close(), victim!.close()]);
	});

	test('a 59 KB frame of nested calls runs nothing', async () => {
		const room = freshRoom();
		const [attacker, victim] = await joinInTurn(worker, room, [{ user_id: 'mallory' }, { user_id: 'victim' }]);
		const nested = Array.from({ length: 1_800 }, () => call('post', 'spam'));
		const frame = [
			['push', call('echo', ...nested)],
			['pull', 1],
		];
		expect(JSON.stringify(frame).length).toBeGreaterThan(50_000);
		expect(refusal(await attacker!.batch(1, frame))?.code).toBe('bad_request');
		await roomStillServes(room, victim!);
		expect(victim!.names()).not.toContain('chat:message:spam');
		expect(victim!.events.filter((e) => e.name === 'chat:message')).toHaveLength(1);
		await Promise.all([attacker!.close(), victim!.close()]);
	});

	test('a property-only map() still works, and pipelining is charged per call', async () => {
		const a = await Probe.join(worker, freshRoom(), { user_id: 'ann' });
		// `echo` is generic, so the stub types its result loosely: a test-only cast.
		const items = a.rpc.echo([{ n: 1 }, { n: 2 }]) as unknown as { map(f: (x: { n: number }) => number): Promise<number[]> };
		expect(await items.map((x) => x.n)).toEqual([1, 2]);
		expect(await a.rpc.counter(1).increment(2).value()).toBe(3);
		await a.close();
	});
});

describe('3. batches that would never finish', () => {
	const callbacks = [
		['a client stub', ['export', -1]],
		['a client promise', ['promise', -1]],
		['a writable stream', ['writable', -1]],
		['a readable stream', ['readable', 1]],
		['a request with a streaming body', ['request', 'https://x/', { body: ['readable', 1] }]],
		['a blob', ['blob', 'text/plain', ['readable', 1]]],
	] as const;
	test.each(callbacks)('%s in the arguments is refused at once', async (_, value) => {
		const room = freshRoom();
		const [a, b] = await joinInTurn(worker, room, [{ user_id: 'ann' }, { user_id: 'bob' }]);
		const answer = await a!.batch(1, [
			['push', call('echo', value)],
			['pull', 1],
		]);
		expect(refusal(answer)).toMatchObject({ code: 'bad_request', status: 400 });
		await roomStillServes(room, b!);
		await Promise.all([a!.close(), b!.close()]);
	});

	test('a socket that leaves drops its batches at once: nothing waits for their deadline', async () => {
		const room = freshRoom('strict');
		const a = await Probe.join(worker, room, { user_id: 'ann' });
		const pending = a.batch(1, [
			['push', call('slow', 20_000)],
			['push', call('add', 1, 1)],
			['pull', 1],
			['pull', 2],
		]);
		void pending;
		await a.close();
		const b = await Probe.join(worker, room, { user_id: 'bob' });
		// Bob's own call is answered; Ann's batch was dropped as she left, not timed out later.
		expect(await b.rpc.add(1, 2)).toBe(3);
		const { counters } = await worker.rpc<{ counters: Record<string, number> }>(room, 'stats');
		expect(counters['metric:batch:dropped']).toBe(1);
		expect(counters['metric:batch:timeout']).toBeUndefined();
		await b.close();
	});

	test('a batch past the room deadline is answered 504 and dropped; the socket keeps working', async () => {
		const a = await Probe.join(worker, freshRoom('strict'), { user_id: 'ann' });
		const started = Date.now();
		const answer = await a.batch(1, [
			['push', call('slow', 20_000)],
			['pull', 1],
		]);
		expect(refusal(answer)).toMatchObject({ code: 'timeout', status: 504 });
		expect(Date.now() - started).toBeLessThan(10_000);
		// The session path too (two calls in one batch).
		const two = await a.batch(2, [
			['push', call('slow', 20_000)],
			['push', call('add', 1, 1)],
			['pull', 1],
			['pull', 2],
		]);
		expect(refusal(two)?.code).toBe('timeout');
		expect(await a.rpc.add(1, 1)).toBe(2);
		await a.close();
	});
});

describe('4. every call frame gets an answer', () => {
	const broken: Array<[string, string[]]> = [
		['a push without an expression', ['["push"]']],
		['a pull of nothing', ['["pull",99]']],
		['a pull before its push', ['["pull",1]', JSON.stringify(['push', call('add', 1, 1)])]],
		['a release of more than was imported', [JSON.stringify(['push', call('add', 1, 1)]), '["release",1,5]', '["pull",1]']],
		['an abort', ['["abort",["error","Error","x"]]']],
		['a resolve of something never exported', ['["resolve",-1,1]']],
		['an empty batch', ['']],
		['a push of plain data', ['["push",5]', '["pull",1]']],
		['an unknown special value', [JSON.stringify(['push', call('echo', ['nosuch', 1])]), '["pull",1]']],
	];
	test.each(broken)('%s: x<id> 400 at once', async (_, lines) => {
		const a = await Probe.join(worker, freshRoom(), { user_id: 'ann' });
		const answer = await a.batch(5, lines);
		expect(answer.startsWith('x5\n')).toBe(true);
		expect(refusal(answer)).toMatchObject({ code: 'bad_request', status: 400 });
		expect(await a.rpc.add(1, 1)).toBe(2);
		await a.close();
	});
});

describe('5. rate limits are per user', () => {
	test('reconnecting does not refill the bucket', async () => {
		const room = freshRoom();
		const a = await Probe.join(worker, room, { user_id: 'ann' });
		expect(await Promise.all(Array.from({ length: 30 }, () => a.rpc.add(0, 0)))).toHaveLength(30);
		await a.close();
		const again = await Probe.join(worker, room, { user_id: 'ann' });
		expect(await again.rpc.add(0, 0).catch((e) => e)).toMatchObject({ code: 'rate_limited', status: 429 });
		// Someone else is not affected.
		const bob = await Probe.join(worker, room, { user_id: 'bob' });
		expect(await bob.rpc.add(1, 1)).toBe(2);
		await Promise.all([again.close(), bob.close()]);
	});

	test("a user's sockets share one budget", async () => {
		const room = freshRoom();
		const sockets = await joinInTurn(
			worker,
			room,
			Array.from({ length: 10 }, () => ({ user_id: 'ann' })),
		);
		// 10 sockets × 3 calls = the user's 30; one more on any socket is refused.
		const results = await Promise.allSettled(sockets.flatMap((s) => [0, 1, 2].map(() => s.rpc.add(0, 0))));
		expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
		expect(await sockets[7]!.rpc.add(0, 0).catch((e) => e)).toMatchObject({ code: 'rate_limited' });
		await Promise.all(sockets.map((s) => s.close()));
	});

	test('sockets per user, connections per user and sessions per room are capped with clear close codes', async () => {
		const room = freshRoom('strict');
		const [a1, a2, a3, b] = await joinInTurn(worker, room, [{ user_id: 'ann' }, { user_id: 'ann' }, { user_id: 'ann' }, { user_id: 'bob' }]);
		// The 4th socket of one user (maxSocketsPerUser: 3).
		const fourth = new Probe(worker.connectUrl(room, { user_id: 'ann' }));
		expect(await fourth.closed).toMatchObject({ code: CloseCode.RateLimited, reason: expect.stringContaining('rate_limited') });
		// Connections: 6 per user per minute. Bob opened 1; 5 more open and close, the next is refused.
		for (let i = 0; i < 5; i++) await (await Probe.join(worker, room, { user_id: 'bob' })).close();
		const seventh = new Probe(worker.connectUrl(room, { user_id: 'bob' }));
		expect(await seventh.closed).toMatchObject({ code: CloseCode.RateLimited, reason: expect.stringContaining('Too many connections') });
		// Sessions per room (maxSessions: 8): 4 held, 4 more users fill it, the 9th is refused.
		const more = await joinInTurn(
			worker,
			room,
			['c', 'd', 'e', 'f'].map((user_id) => ({ user_id })),
		);
		const ninth = new Probe(worker.connectUrl(room, { user_id: 'g' }));
		expect(await ninth.closed).toMatchObject({ code: CloseCode.RoomFull, reason: expect.stringContaining('room_full') });
		// Everyone admitted still hears the room; nobody refused was ever announced (presence is
		// flushed before the broadcast, so the list is complete once it arrives).
		await roomStillServes(room, b!);
		await a1!.next('chat:message');
		expect(a1!.events.filter((e) => e.name === 'session:connected').map((e) => e.data.meta.user_id)).toEqual([
			'ann',
			'ann',
			'bob',
			'bob',
			'bob',
			'bob',
			'bob',
			'bob',
			'c',
			'd',
			'e',
			'f',
		]);
		await Promise.all([a1!, a2!, a3!, b!, ...more].map((p) => p.close()));
	});

	test('a flood of sockets from one user does not starve the others', async () => {
		const room = freshRoom('strict');
		const victim = await Probe.join(worker, room, { user_id: 'victim' });
		const flood = Array.from({ length: 200 }, () => new Probe(worker.connectUrl(room, { user_id: 'mallory' })));
		const outcomes = await Promise.all(flood.map((p) => Promise.race([p.closed, p.next('session:list', 30_000).then(() => 'joined' as const)])));
		// At most 3 were let in; every refused one was told why.
		expect(outcomes.filter((o) => o === 'joined').length).toBeLessThanOrEqual(3);
		expect(outcomes.every((o) => o === 'joined' || o.code === CloseCode.RateLimited)).toBe(true);
		expect(await victim.rpc.add(20, 22)).toBe(42);
		await Promise.all(flood.map((p) => p.close()));
		await victim.close();
	});
});

describe('6. limits count calls and events, not frames', () => {
	test('35 sends in one frame: 30 handled, 5 refused, and the next tick succeeds again later', async () => {
		const a = await Probe.join(worker, freshRoom(), { user_id: 'ann' });
		const sends = await Promise.allSettled(Array.from({ length: 35 }, (_, i) => a.conn.send('echo', i)));
		expect(sends.slice(0, 30).map((r) => (r as PromiseFulfilledResult<number>).value)).toEqual(Array.from({ length: 30 }, (_, i) => i));
		expect(sends.slice(30).every((r) => r.status === 'rejected' && (r.reason as { code: string }).code === 'rate_limited')).toBe(true);
		await a.close();
	});
});

describe('7. work that costs nothing is charged', () => {
	test('a frame of megabytes is refused for its size, and the socket stays', async () => {
		const room = freshRoom();
		const [a, b] = await joinInTurn(worker, room, [{ user_id: 'ann' }, { user_id: 'bob' }]);
		const answer = await a!.batch(1, [`["push",["pipeline",0,["echo"],["${'x'.repeat(2 * 1024 * 1024)}"]]]`, '["pull",1]']);
		expect(refusal(answer)).toMatchObject({ code: 'payload_too_large', status: 413 });
		await roomStillServes(room, b!);
		expect(await a!.rpc.add(1, 1)).toBe(2);
		await Promise.all([a!.close(), b!.close()]);
	});

	test('empty and refused frames spend the frame bucket; 20 refusals in a row close the socket', async () => {
		const room = freshRoom();
		const [a, b] = await joinInTurn(worker, room, [{ user_id: 'ann' }, { user_id: 'bob' }]);
		let tried = 0;
		while (tried < 19) {
			const answer = await a!.batch(++tried, ['']);
			expect(refusal(answer)?.code).toBe('bad_request');
		}
		// A good frame resets the count; then 20 bad ones in a row close the socket.
		expect(await a!.rpc.add(1, 1)).toBe(2);
		for (let i = 0; i < 20; i++) a!.raw(`c${100 + i}\n`);
		expect(await a!.closed).toMatchObject({ code: 1008 });
		expect((await b!.next('session:disconnected')).ws_session_id).toBe(a!.id);
		await roomStillServes(room, b!);
		await b!.close();
	});

	test('a catch-up larger than the room allows becomes entity:resync; a small one is replayed in bounded frames', async () => {
		const room = freshRoom('strict');
		// 40 changes of ~1 KB: more than the strict room's 16 KiB catch-up.
		for (let i = 0; i < 40; i++) await worker.rpc(room, 'entityChanged', 'created', 'todo', i, { text: 'x'.repeat(1000) });
		const far = new Probe(`${worker.connectUrl(room, { user_id: 'ann' })}&since=0`);
		expect(await far.next('entity:resync')).toMatchObject({ head: 40 });
		expect(far.names()).not.toContain('entity:created');
		const near = new Probe(`${worker.connectUrl(room, { user_id: 'bob' })}&since=35`);
		const synced = await near.next('entity:synced');
		expect(synced).toMatchObject({ head: 40 });
		expect(near.events.filter((e) => e.name === 'entity:created').map((e) => e.data.seq)).toEqual([36, 37, 38, 39, 40]);
		await Promise.all([far.close(), near.close()]);
	});
});

describe('8. sockets that go silent', () => {
	test('a socket that sends nothing, not even pings, is closed (4408) and announced gone; a pinging one stays', async () => {
		const room = freshRoom('strict');
		const [silent, alive] = await joinInTurn(worker, room, [{ user_id: 'frozen' }, { user_id: 'alive' }]);
		const pings = setInterval(() => alive!.raw('ping'), 300);
		try {
			expect(await silent!.closed).toMatchObject({ code: CloseCode.Idle, reason: expect.stringContaining('idle_timeout') });
			expect((await alive!.next('session:disconnected')).ws_session_id).toBe(silent!.id);
			expect((await worker.rpc<any[]>(room, 'getSessions')).map((s) => s.meta.user_id)).toEqual(['alive']);
			expect(await alive!.rpc.add(1, 1)).toBe(2);
		} finally {
			clearInterval(pings);
		}
		await alive!.close();
	});
});

describe('8. sockets that stop reading', () => {
	test('a socket that pings but never reads is closed (4409) once it owes the room too much; readers are untouched', async () => {
		const room = freshRoom('strict');
		const reader = await Probe.join(worker, room, { user_id: 'reader' });
		const stalled = await openStalledSocket(worker.connectUrl(room, { user_id: 'mallory' }));
		const joined = await reader.next('session:connected');
		expect(joined.meta.user_id).toBe('mallory');
		// 20 broadcasts of 16 KiB: 320 KiB to each socket, five times the strict room's 64 KiB.
		let frames = 0;
		for (let i = 0; i < 20; i++) {
			await worker.rpc(room, 'broadcast', 'chat:message', { text: `${i}:${'x'.repeat(16 * 1024)}` });
			frames++;
		}
		expect((await reader.next('session:disconnected')).ws_session_id).toBe(joined.ws_session_id);
		// The reader confirmed as it read, got every broadcast, in order, and is still in the room.
		const texts = reader.events.filter((e) => e.name === 'chat:message').map((e) => Number(e.data.text.split(':')[0]));
		expect(texts).toEqual(Array.from({ length: frames }, (_, i) => i));
		expect((await worker.rpc<any[]>(room, 'getSessions')).map((s) => s.meta.user_id)).toEqual(['reader']);
		const { counters } = await worker.rpc<{ counters: Record<string, number> }>(room, 'stats');
		expect(counters['metric:closed:not_reading']).toBe(1);
		stalled.destroy();
		await reader.close();
	});
});

describe('9. logs', () => {
	test('an Error sent by a browser is not logged as the room throwing; room errors are logged quoted', async () => {
		const a = await Probe.join(worker, freshRoom(), { user_id: 'ann' });
		const forged = 'FORGED\nA room method threw Error: nothing happened';
		const answer = await a.batch(1, [
			['push', call('echo', ['error', 'Error', forged])],
			['pull', 1],
		]);
		expect(answer.startsWith('r1\n')).toBe(true);
		await a.conn.send('explode', { note: 'line\nbreak' }).catch(() => undefined);
		const thrown = await a.batch(2, [
			['push', call('crash')],
			['push', call('add', 1, 1)],
			['pull', 1],
			['pull', 2],
		]);
		expect(thrown).toContain('method_failed');
		// The room's own throws were logged (their messages quoted); the browser's text never was.
		await waitFor(() => log.includes('A room method threw Error: "plain crash"'));
		expect(log).toContain('onMessage threw for event "explode"');
		expect(log).not.toContain('FORGED');
		await a.close();
	});
});

describe('observability', () => {
	test('onMetric hears batches, refusals and sockets turned away; metrics() counts them', async () => {
		const room = freshRoom('strict');
		const a = await Probe.join(worker, room, { user_id: 'ann' });
		expect(await a.rpc.add(1, 1)).toBe(2);
		await a.batch(1, ['["pull",99]']);
		expect(
			refusal(
				await a.batch(2, [
					['push', call('slow', 20_000)],
					['pull', 1],
				]),
			)?.code,
		).toBe('timeout');
		const extra = await joinInTurn(worker, room, [{ user_id: 'ann' }, { user_id: 'ann' }]);
		expect((await new Probe(worker.connectUrl(room, { user_id: 'ann' })).closed).code).toBe(CloseCode.RateLimited);
		const { counters } = await worker.rpc<{ counters: Record<string, number> }>(room, 'stats');
		expect(counters).toMatchObject({ 'metric:batch:answered': 1, 'metric:refused:bad_request': 1, 'metric:batch:timeout': 1, 'metric:socket_refused:4429': 1 });
		const metrics = await worker.rpc<Record<string, unknown>>(room, 'metrics');
		expect(metrics).toMatchObject({ sessions: 3, batches: 2, calls: 2, refused: { bad_request: 1 }, socketsRefused: { '4429': 1 } });
		await Promise.all([a, ...extra].map((p) => p.close()));
	});
});

describe('11. names and targets', () => {
	test('server code cannot send client-local names; sendTo(string) reaches a session, never a user of that id', async () => {
		const room = freshRoom();
		const [a, b] = await joinInTurn(worker, room, [{ user_id: 'ann' }, { user_id: 'bob' }]);
		for (const name of ['ws:connected', '*']) {
			await expect(worker.rpc(room, 'broadcast', name, {})).rejects.toThrow(/client-local/);
		}
		// A user whose id equals someone's session id gets nothing meant for that session.
		const twin = await Probe.join(worker, room, { user_id: a!.id });
		expect(await worker.rpc(room, 'sendTo', a!.id, 'chat:message', { text: 'for ann' })).toBe(1);
		expect(await a!.next('chat:message')).toEqual({ text: 'for ann' });
		expect(await worker.rpc(room, 'sendTo', { user: a!.id }, 'chat:message', { text: 'for the twin' })).toBe(1);
		expect(await twin.next('chat:message')).toEqual({ text: 'for the twin' });
		expect(twin.events.filter((e) => e.name === 'chat:message')).toHaveLength(1);
		await Promise.all([a!.close(), b!.close(), twin.close()]);
	});
});

/**
 * A WebSocket client that completes the upgrade and then never reads another byte, while it keeps
 * sending keep-alive pings (so it is not silent): the peer a room cannot see is not reading.
 */
async function openStalledSocket(url: string): Promise<Socket> {
	const { hostname, port, pathname, search } = new URL(url);
	const socket = connect(Number(port), hostname);
	await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
	const key = randomBytes(16).toString('base64');
	socket.write(
		`GET ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
	);
	await new Promise<void>((resolve) => {
		let head = '';
		const onData = (chunk: Buffer) => {
			head += chunk.toString('latin1');
			if (!head.includes('\r\n\r\n')) return;
			socket.off('data', onData);
			// From here on nothing is read: the kernel's buffer fills, then workerd's queue.
			socket.pause();
			resolve();
		};
		socket.on('data', onData);
	});
	const ping = () => {
		// A masked text frame "ping" (clients must mask), which the runtime answers for the room.
		const mask = randomBytes(4);
		const payload = Buffer.from('ping').map((b, i) => b ^ mask[i % 4]!);
		socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, payload]));
	};
	const timer = setInterval(ping, 200);
	socket.once('close', () => clearInterval(timer));
	const destroy = socket.destroy.bind(socket);
	socket.destroy = (error?: Error) => (clearInterval(timer), destroy(error));
	return socket;
}

/** Polls a condition that depends on another process's output (no event to await there). */
async function waitFor(condition: () => boolean, timeoutMs = 5_000) {
	const deadline = Date.now() + timeoutMs;
	while (!condition()) {
		if (Date.now() > deadline) throw new Error('condition not met in time');
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
}
