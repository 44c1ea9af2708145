/**
 * The client's recorded calls (`rpc/recorded-batch.ts`) against capnweb sessions: for every call
 * pattern in the table, a `CallBatcher` with plain calls and one with a session per batch (the path
 * every batch took before) must send the same frames and end with the same outcomes. The room is
 * the real `answerBatch` over an in-memory `PendingBatches`, so timeouts, refusals and lost
 * connections go through the same code as on a socket.
 */
import { afterEach, beforeEach, describe, expect, spyOn, test } from 'bun:test';
import { RpcPromise, RpcStub, RpcTarget } from 'capnweb';
import { answerBatch, singleCall, toWireError } from '../../calls/batch.js';
import { CallBatcher } from '../../calls/call-batcher.js';
import { PendingBatches } from '../../calls/pending-batches.js';
import { arrivingLate } from '../support/chunk-loader.js';
import type { LazyChunk } from '../../calls/lazy-chunk.js';
import { ConnectionLost, RoomError } from '../../rpc/errors.js';
import { readHeader } from '../../rpc/frame.js';
import { BatchingTransport } from '../../calls/session-batch.js';
import { sessionChunk } from '../../calls/sessions.js';
import { recorderChunk } from '../../calls/deferred-batch.js';

class Counter extends RpcTarget {
	constructor(public n: number) {
		super();
	}
	increment(by = 1) {
		this.n += by;
		return this;
	}
	value() {
		return this.n;
	}
}

/** The room's API in these tests. */
class Api extends RpcTarget {
	log: unknown[] = [];
	echo(value: unknown) {
		return value;
	}
	add(a: number, b: number) {
		return a + b;
	}
	none() {}
	post(value: unknown) {
		this.log.push(value);
	}
	fail(code: string) {
		throw new RoomError(code, `failed with ${code}`, 409);
	}
	crash() {
		throw new TypeError('plain crash');
	}
	throwString() {
		throw 'just a string';
	}
	errorInResult() {
		return { e: new RangeError('inside'), n: 1 };
	}
	counter(n: number) {
		return new Counter(n);
	}
	list(n: number) {
		return Array.from({ length: n }, (_, i) => ({ i }));
	}
	callMe(fn: (x: number) => unknown) {
		return fn(2);
	}
	get version() {
		return 7;
	}
	async slow(ms: number) {
		await new Promise((resolve) => setTimeout(resolve, ms));
		return ms;
	}
	'we"ird'(x: unknown) {
		return x;
	}
	'~event'(name: string, data: unknown) {
		return { name, data };
	}
}

type Remote = RpcStub<Api>;
/** A stub seen without its types: capnweb cannot type what `echo` hands back. */
type Loose = { readonly a: Loose; readonly code: Loose; value(): Loose } & ((...args: unknown[]) => Loose);
const loose = (stub: unknown) => stub as Loose;
/** What a scenario may use; `rpc()` is `batcher.main`, fresh for each macrotask as in the app. */
interface Ctx {
	rpc(): Remote;
	pending: PendingBatches;
	api: Api;
	/** What the room answers instead of answering: replies to send, or `hold` to keep it waiting. */
	room: { replies?: string[]; hold?: boolean; refuse?: RoomError; offline?: boolean };
}

/** A room and a batcher over an in-memory socket. */
function harness(plainCalls: boolean, timeoutMs = 5_000) {
	const api = new Api();
	const frames: string[][] = [];
	const room: Ctx['room'] = {};
	const pending: PendingBatches = new PendingBatches(
		(frame) => {
			if (room.offline) return false;
			const header = readHeader(frame)!;
			const lines = frame.slice(header.body).split('\n');
			frames.push(lines);
			if (room.hold) return true;
			if (room.refuse) {
				const refusal = room.refuse;
				setTimeout(() => pending.refuse(header.id, refusal), 0);
			} else if (room.replies) {
				const replies = room.replies;
				setTimeout(() => pending.resolve(header.id, replies), 0);
			} else {
				// Answered in a later macrotask, as a socket would.
				void Promise.resolve(answerBatch({ lines, single: singleCall(lines) }, api, { onSendError: toWireError })).then((replies) =>
					setTimeout(() => pending.resolve(header.id, replies), 0),
				);
			}
			return true;
		},
		{ timeoutMs },
	);
	const batcher = new CallBatcher<Remote>((messages) => pending.send(messages), { plainCalls });
	const ctx: Ctx = { rpc: () => batcher.main, pending, api, room };
	return { ctx, frames };
}

const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** console.error silenced for each test of the describe it is called in: capnweb logs what scenarios throw on purpose. */
function silenceErrors(): void {
	let logged: ReturnType<typeof spyOn>;
	beforeEach(() => (logged = spyOn(console, 'error').mockImplementation(() => {})));
	afterEach(() => logged.mockRestore());
}

/** An outcome as data both paths can be compared on. */
function look(value: unknown, depth = 0): unknown {
	if (depth > 20) return '…';
	if (typeof value === 'function' || value instanceof RpcStub) {
		// A stub (or a stand-in for one): what it is, never its (lazy, infinite) properties.
		return { stub: value instanceof RpcPromise ? 'promise' : value instanceof RpcStub ? 'stub' : typeof value };
	}
	if (value instanceof Error) {
		return { error: value.constructor.name, name: value.name, message: value.message, fields: look({ ...value }, depth + 1) };
	}
	if (Array.isArray(value)) return value.map((v) => look(v, depth + 1));
	if (value instanceof Date || value instanceof Uint8Array) return { [value.constructor.name]: String(value), disposable: Symbol.dispose in value };
	if (value && typeof value === 'object') {
		const out: Record<string, unknown> = { disposable: Symbol.dispose in value };
		for (const [k, v] of Object.entries(value)) out[k] = look(v, depth + 1);
		return out;
	}
	if (typeof value === 'bigint') return { bigint: String(value) };
	if (typeof value === 'number' && Object.is(value, -0)) return '-0';
	if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
	if (value === undefined) return '(undefined)';
	return value;
}

const settle = (p: unknown) =>
	Promise.resolve(p).then(
		(value) => ({ value: look(value) }),
		(error: unknown) => ({ error: look(error) }),
	);

/** Runs a scenario and reports what happened: the frames sent, what it observed, what the room saw. */
async function run(plainCalls: boolean, scenario: Scenario, timeoutMs?: number) {
	const { ctx, frames } = harness(plainCalls, timeoutMs);
	let observed: unknown;
	try {
		// Some patterns never settle over one-way batches (the room would have to call the client
		// back): both paths must then hang alike.
		observed = await Promise.race([scenario(ctx), sleep(1_000).then(() => 'still waiting')]);
	} catch (error) {
		observed = { threw: look(error) };
	}
	await sleep(5);
	return { frames, observed: look(observed), log: look(ctx.api.log) };
}

type Scenario = (ctx: Ctx) => Promise<unknown>;

/** One call of `echo(1)` that the room answers with `replies`, whatever they say. */
function answered(replies: string[]): Scenario {
	return async ({ rpc, room }) => {
		room.replies = replies;
		return settle(rpc().echo(1));
	};
}

const scenarios: Array<[string, Scenario, number?]> = [
	// One plain call: the recorded path.
	['plain data', async ({ rpc }) => settle(rpc().echo({ n: 1, s: 'x', nil: null, t: true, list: [1, 'a', [2, [3]]] }))],
	['a Date', async ({ rpc }) => settle(rpc().echo(new Date(5)))],
	['an invalid Date', async ({ rpc }) => settle(rpc().echo(new Date(NaN)))],
	['a bigint', async ({ rpc }) => settle(rpc().echo(10n ** 30n))],
	['undefined, as argument and result', async ({ rpc }) => settle(rpc().echo(undefined))],
	['no result', async ({ rpc }) => settle(rpc().none())],
	['nested arrays', async ({ rpc }) => settle(rpc().echo([[1, 2], [3, [4, []]], []]))],
	['special numbers', async ({ rpc }) => settle(rpc().echo([-0, NaN, Infinity, -Infinity, 1e300]))],
	['bytes', async ({ rpc }) => settle(rpc().echo(new Uint8Array([1, 2, 3])))],
	['undefined fields', async ({ rpc }) => settle(rpc().echo({ a: undefined, b: [undefined] }))],
	['several arguments', async ({ rpc }) => settle(rpc().add(2, 3))],
	['no arguments', async ({ rpc }) => settle(rpc().list(2))],
	['the event method', async ({ rpc }) => settle(rpc()['~event']('x', { at: new Date(1) }))],
	['a RoomError keeps code and status', async ({ rpc }) => settle(rpc().fail('sold_out'))],
	['any other error arrives as method_failed', async ({ rpc }) => settle(rpc().crash())],
	['a thrown string', async ({ rpc }) => settle(rpc().throwString())],
	['an Error inside a result', async ({ rpc }) => settle(rpc().errorInResult())],
	[
		'catch',
		async ({ rpc }) =>
			rpc()
				.fail('x')
				.catch((e: { code: string }) => e.code),
	],
	[
		'finally',
		async ({ rpc }) =>
			settle(
				rpc()
					.echo(1)
					.finally(() => {}),
			),
	],
	[
		'then twice: one pull',
		async ({ rpc }) => {
			const p = rpc().echo(1);
			return Promise.all([p.then((x) => x), p.then((x) => x)]);
		},
	],
	[
		'the same object twice',
		async ({ rpc }) => {
			const p = rpc().echo({ a: 1 });
			const [a, b] = await Promise.all([p, p]);
			return a === b;
		},
	],
	['an unknown method', async ({ rpc }) => settle((rpc() as unknown as Record<string, () => unknown>).nosuch!())],
	['a method name needing escapes', async ({ rpc }) => settle(rpc()['we"ird'](1))],
	['a timeout', async ({ rpc }) => settle(rpc().slow(200)), 30],
	[
		'a lost connection',
		async ({ rpc, pending, room }) => {
			room.hold = true;
			const p = settle(rpc().echo(1));
			await macrotask();
			pending.failAll(new ConnectionLost());
			return p;
		},
	],
	[
		'no socket',
		async ({ rpc, room }) => {
			room.offline = true;
			return settle(rpc().echo(1));
		},
	],
	[
		'a refused batch',
		async ({ rpc, room }) => {
			room.refuse = new RoomError('rate_limited', 'slow down', 429);
			return settle(rpc().echo(1));
		},
	],
	['an answer with two messages', answered(['["resolve",1,1]', '["resolve",1,2]'])],
	['an answer for another call', answered(['["resolve",2,1]'])],
	['a malformed answer', answered(['["resolve",1,{]'])],
	['an answer with an extra element', answered(['["resolve",1,1,2]'])],
	['an abort', answered(['["abort",["error","Error","gone"]]'])],
	['no answer at all', answered([])],
	['a stub in the answer', answered(['["resolve",1,["export",-1]]'])],

	// Everything else: a session, as before.
	['pipelining a.b().c()', async ({ rpc }) => settle(rpc().counter(1).increment(2).value())],
	['a pipelined property', async ({ rpc }) => settle(rpc().counter(4).n)],
	['a property of the API', async ({ rpc }) => settle(rpc().version)],
	['a plain call after a pipelined one, same tick', async ({ rpc }) => Promise.all([settle(rpc().counter(5).value()), settle(rpc().echo(1))])],
	['a promise as an argument', async ({ rpc }) => settle(rpc().add(rpc().add(1, 2), 3))],
	// Settled first: whether an unsettled promise of a batch that left is still answerable depends on
	// when the room's answer lands, which made the comparison a race.
	[
		'a promise from an earlier batch as an argument',
		async ({ rpc }) => {
			const earlier = rpc().add(1, 2);
			await macrotask();
			await settle(earlier);
			return settle(rpc().add(earlier, 3));
		},
	],
	[
		'a method returning an RpcTarget',
		async ({ rpc }) => {
			const counter = await rpc().counter(5);
			return [look(counter), await settle(counter.value())];
		},
	],
	['two calls in one tick', async ({ rpc }) => Promise.all([settle(rpc().add(1, 2)), settle(rpc().echo('x'))])],
	[
		'results asked for in the other order',
		async ({ rpc }) => {
			const a = rpc().add(1, 1);
			const b = rpc().add(2, 2);
			return Promise.all([settle(b), settle(a)]);
		},
	],
	[
		'a call after one was awaited, same tick',
		async ({ rpc }) => {
			const a = settle(rpc().echo(1));
			const b = settle(rpc().echo(2));
			return Promise.all([a, b]);
		},
	],
	[
		'fire and forget',
		async ({ rpc, api }) => {
			void rpc().post('x');
			await sleep(5);
			return api.log;
		},
	],
	[
		'fire and forget, then awaited after the batch left',
		async ({ rpc }) => {
			const p = rpc().post('y');
			await macrotask();
			return settle(p);
		},
	],
	[
		'calls after the batch ended',
		async ({ rpc }) => {
			const api = rpc();
			const first = await settle(api.add(1, 1));
			return [first, await settle(api.add(2, 2))];
		},
	],
	[
		'calls on a batch in flight',
		async ({ rpc }) => {
			const api = rpc();
			const first = settle(api.slow(5));
			await macrotask();
			return [await settle(api.add(2, 2)), await first];
		},
	],
	[
		'a method captured before its batch left',
		async ({ rpc }) => {
			const add = rpc().add;
			await macrotask();
			return settle(add(1, 2));
		},
	],
	[
		'pipelining on a resolved plain result',
		async ({ rpc }) => {
			const p = rpc().echo({ a: { a: 1 } });
			const whole = await settle(p);
			return [whole, await settle(loose(p).a), await settle(loose(p).a.a)];
		},
	],
	[
		'pipelining on a rejected result',
		async ({ rpc }) => {
			const p = rpc().fail('nope');
			const whole = await settle(p);
			return [whole, await settle(loose(p).code)];
		},
	],
	[
		'pipelining on a result in flight',
		async ({ rpc }) => {
			const p = rpc().echo({ a: 1 });
			const whole = settle(p);
			await macrotask();
			return [await settle(loose(p).a), await whole];
		},
	],
	['non-plain arguments: a function', async ({ rpc }) => settle(rpc().callMe((x: number) => x * 10))],
	['non-plain arguments: an RpcTarget', async ({ rpc }) => settle(loose(rpc().echo(new Counter(3))).value())],
	['an Error as an argument', async ({ rpc }) => settle(rpc().echo(Object.assign(new Error('arg'), { code: 'c' })))],
	[
		'arguments changed after the call, before the batch upgraded',
		async ({ rpc }) => {
			const o: Record<string, unknown> = { n: 1 };
			const a = rpc().echo(o);
			o.n = 2;
			o.f = () => 1;
			const b = rpc().add(1, 1);
			return Promise.all([settle(a), settle(b)]);
		},
	],
	[
		'arguments whose replay would read differently (a key capnweb drops)',
		async ({ rpc }) => {
			const a = rpc().echo({ toJSON: 1, constructor: 2, y: [1] });
			const b = rpc().add(1, 1);
			return Promise.all([settle(a), settle(b)]);
		},
	],
	[
		'map',
		async ({ rpc }) =>
			settle(
				rpc()
					.list(3)
					.map((x) => x.i),
			),
	],
	[
		'dup',
		async ({ rpc }) => {
			const p = rpc().echo(1);
			return Promise.all([settle(p.dup()), settle(p)]);
		},
	],
	[
		'dispose before the batch leaves',
		async ({ rpc }) => {
			const p = rpc().echo(1);
			p[Symbol.dispose]();
			return settle(p);
		},
	],
	[
		'dispose after the answer',
		async ({ rpc }) => {
			const p = rpc().echo({ a: 1 });
			const first = await settle(p);
			p[Symbol.dispose]();
			return [first, await settle(p)];
		},
	],
	[
		'onRpcBroken, on a call answered by a stub and on a plain call',
		async ({ rpc }) => {
			const broken: unknown[] = [];
			// One after the other: each is a batch of its own, the plain one taking the plain path.
			const watched = <T>(which: string, p: RpcPromise<T>) => {
				p.onRpcBroken((e) => broken.push([which, look(e)]));
				return settle(p);
			};
			const counter = await watched('counter', rpc().counter(1));
			const value = await watched('echo', rpc().echo(1));
			await sleep(5);
			return [counter, value, broken];
		},
	],
	[
		'the shapes of the stubs',
		async ({ rpc }) => {
			const api = rpc();
			const call = api.echo(1);
			const shapes = [
				typeof api,
				typeof api.echo,
				typeof call,
				api instanceof RpcStub,
				api instanceof RpcPromise,
				call instanceof RpcPromise,
				'then' in api,
				'then' in call,
				'anything' in api,
				(api as unknown as { then?: unknown }).then === undefined,
				String(api),
				String(call),
			];
			return [shapes, await settle(call)];
		},
	],
	[
		'the API awaited',
		async ({ rpc }) => {
			const api = rpc();
			return settle(Promise.race([Promise.resolve(api).then(() => 'resolved'), sleep(50).then(() => 'pending')]));
		},
	],
	[
		'a result disposable like a session makes it',
		async ({ rpc }) => {
			const value = (await rpc().echo({ a: 1 })) as object;
			return [Symbol.dispose in value, Object.keys(value), typeof (value as Record<symbol, unknown>)[Symbol.dispose]];
		},
	],
	[
		'batches in turn',
		async ({ rpc }) => {
			const out: unknown[] = [];
			for (let i = 0; i < 3; i++) out.push(await settle(rpc().add(i, i)));
			return out;
		},
	],
	[
		'concurrent batches',
		async ({ rpc }) => {
			const a = settle(rpc().slow(10));
			await macrotask();
			const b = settle(rpc().echo('b'));
			return Promise.all([a, b]);
		},
	],
];

describe('recorded calls equal capnweb sessions', () => {
	// The room logs every error that is not a RoomError; both paths make it throw the same ones.
	silenceErrors();

	// Rows as long as the test's parameters: a shorter row would make bun pass a `done` callback.
	test.each(scenarios.map(([name, scenario, timeoutMs]) => [name, scenario, timeoutMs ?? 5_000] as const))('%s', async (_, scenario, timeoutMs) => {
		const session = await run(false, scenario, timeoutMs);
		const recorded = await run(true, scenario, timeoutMs);
		expect(recorded).toEqual(session);
	});
});

/**
 * Each scenario, run with `late` not loaded at its start, ends as with capnweb sessions there from
 * the start. All but two: what code sees of the stubs before capnweb is there (not yet capnweb's
 * classes); and a promise of a call nobody awaited, passed into a later batch that waits for
 * capnweb: that call's batch pulled nothing, so it ended as soon as it left, and the later batch's
 * session has not heard that when its frame leaves (it sends the promise, not its rejection). A
 * room refuses any promise from the browser (`batch-check.ts`), so the later call fails either way.
 */
function endsAsWithSessions(...late: Array<LazyChunk<unknown>>): void {
	const alike = scenarios.filter(([name]) => name !== 'the shapes of the stubs' && name !== 'a promise from an earlier batch as an argument');
	test.each(alike.map(([name, scenario, timeoutMs]) => [name, scenario, timeoutMs ?? 5_000] as const))('%s', async (_, scenario, timeoutMs) => {
		await sessionChunk.load();
		const session = await run(false, scenario, timeoutMs);
		for (const chunk of late) chunk.forget();
		const recorded = await run(true, scenario, timeoutMs);
		expect(recorded).toEqual(session);
	});
}

describe('before capnweb has loaded, recorded calls equal capnweb sessions', () => {
	// Every scenario starts without capnweb, which takes a few milliseconds to arrive (as over a
	// network): what needs a session waits for it, and must end as with capnweb there from the start.
	arrivingLate(3, sessionChunk);
	silenceErrors();

	endsAsWithSessions(sessionChunk);

	test('an argument capnweb cannot send rejects the call with its error (with capnweb there, the call throws it)', async () => {
		const { ctx, frames } = harness(true);
		const threw = (() => {
			try {
				return ctx.rpc().echo(new Map() as never);
			} catch (error) {
				return error;
			}
		})();
		expect(threw).not.toBeInstanceOf(Error);
		const rejected = await Promise.resolve(threw).catch((error: unknown) => error);
		expect(String(rejected)).toBe('TypeError: Cannot serialize value: [object Map]');
		await sleep(5);
		expect(frames).toEqual([]);
		expect(() => ctx.rpc().echo(new Map() as never)).toThrow('Cannot serialize value: [object Map]');
	});

	test('a call nobody awaits loads nothing and leaves as its call line alone', async () => {
		const before = sessionChunk.source.imports;
		const { ctx, frames } = harness(true);
		void ctx.rpc().post('unawaited');
		await macrotask();
		expect(frames).toEqual([['["push",["pipeline",0,["post"],["unawaited"]]]']]);
		expect(await ctx.rpc().echo(1)).toBe(1);
		expect(ctx.api.log).toEqual(['unawaited']);
		expect(sessionChunk.source.imports).toBe(before);
		expect(sessionChunk.now()).toBeUndefined();
	});

	test('a plain call loads nothing', async () => {
		const before = sessionChunk.source.imports;
		const { ctx } = harness(true);
		expect(await ctx.rpc().echo({ d: new Date(1) })).toEqual({ d: new Date(1) });
		expect(sessionChunk.source.imports).toBe(before);
		expect(sessionChunk.now()).toBeUndefined();
	});
});

describe('before the call recorder has loaded, calls equal capnweb sessions', () => {
	// Every scenario starts without the recorder (and without capnweb), each a few milliseconds away:
	// a JSON call leaves at once, anything else is replayed onto the recorder once it is there, and
	// must end as with both there from the start.
	arrivingLate(3, recorderChunk, sessionChunk);
	silenceErrors();

	endsAsWithSessions(sessionChunk, recorderChunk);

	test('a call with JSON data, awaited or not, leaves at once and loads nothing', async () => {
		sessionChunk.forget();
		recorderChunk.forget();
		const before = recorderChunk.source.imports;
		const { ctx, frames } = harness(true);
		void ctx.rpc().post('unawaited');
		await macrotask();
		const echoed = await ctx.rpc().echo({ list: [1, [2]], n: null });
		expect(echoed).toEqual({ list: [1, [2]], n: null });
		expect(Symbol.dispose in (echoed as object)).toBe(true);
		expect(frames).toEqual([
			['["push",["pipeline",0,["post"],["unawaited"]]]'],
			['["push",["pipeline",0,["echo"],[{"list":[[1,[[2]]]],"n":null}]]]', '["pull",1]'],
		]);
		expect(ctx.api.log).toEqual(['unawaited']);
		expect(recorderChunk.source.imports).toBe(before);
		expect(recorderChunk.now()).toBeUndefined();
	});

	test('a batch waiting for the recorder holds the JSON calls made after it: they leave in order', async () => {
		sessionChunk.forget();
		recorderChunk.forget();
		const { ctx, frames } = harness(true);
		const first = ctx
			.rpc()
			.echo(new Date(5))
			.then((value: unknown) => value);
		await macrotask();
		void ctx.rpc().post('after');
		await macrotask();
		expect(frames).toEqual([]);
		expect(await first).toEqual(new Date(5));
		expect(frames.map((lines) => lines[0])).toEqual(['["push",["pipeline",0,["echo"],[["date",5]]]]', '["push",["pipeline",0,["post"],["after"]]]']);
	});

	test('a recorder that cannot be loaded fails the calls that need it; JSON calls still go', async () => {
		sessionChunk.forget();
		recorderChunk.forget();
		recorderChunk.source.load = () => Promise.reject(new TypeError('Failed to fetch dynamically imported module'));
		const { ctx } = harness(true);
		const error = (await Promise.resolve(ctx.rpc().echo(new Date(5))).catch((e: unknown) => e)) as RoomError;
		expect(error.code).toBe('calls_unavailable');
		expect(await ctx.rpc().echo('still')).toBe('still');
	});
});

describe('the one plain call takes no session', () => {
	let receive: ReturnType<typeof spyOn>;
	beforeEach(() => (receive = spyOn(BatchingTransport.prototype, 'receive')));
	afterEach(() => receive.mockRestore());

	test.each([
		['await rpc.echo(data)', ({ rpc }: Ctx) => rpc().echo({ d: new Date(1), n: 2n })],
		[
			'a rejection',
			({ rpc }: Ctx) =>
				rpc()
					.fail('x')
					.catch(() => {}),
		],
		[
			'a timeout',
			({ rpc, room }: Ctx) => (
				(room.hold = true),
				rpc()
					.echo(1)
					.catch(() => {})
			),
		],
	] as Array<[string, (ctx: Ctx) => Promise<unknown>]>)('%s', async (_, call) => {
		const { ctx, frames } = harness(true, 50);
		await call(ctx);
		expect(frames).toHaveLength(1);
		expect(receive).not.toHaveBeenCalled();
	});

	test('anything else does', async () => {
		const { ctx } = harness(true);
		await ctx.rpc().counter(1).value();
		expect(receive).toHaveBeenCalled();
	});
});
