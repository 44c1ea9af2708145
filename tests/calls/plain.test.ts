/**
 * The plain-call paths (`rpc/plain.ts`) against capnweb itself: for every batch in the tables, the
 * room's `answerBatch` must reply byte for byte what a capnweb session replies, and the client's
 * `deliverOneWay` must make the same calls a session makes, in the same order. The method behind a
 * call runs exactly once either way.
 */
import { afterEach, beforeEach, describe, expect, spyOn, test } from 'bun:test';
import { deserialize, RpcStub, RpcTarget, type RpcSessionOptions } from 'capnweb';
import {
	answerBatch,
	answerWithSession,
	deliverWithSession,
	encodeCalls,
	encodeWithSession,
	singleCall,
	toWireError,
	type CallBatch,
} from '../../calls/batch.js';
import { CallBatcher } from '../../calls/call-batcher.js';
import { deliverOneWay } from '../../calls/one-way.js';
import { RoomError } from '../../rpc/errors.js';
import { encodePayload } from '../../rpc/payload.js';
import { evaluate, plainMethod, readPlainCall } from '../../calls/shortcut/plain.js';
import { NEEDS_SESSION } from '../../calls/shortcut/wire-value.js';

class Counter extends RpcTarget {
	constructor(private n: number) {
		super();
	}
	value() {
		return this.n;
	}
}

const SHARED_ERROR = new RoomError('shared', 'one error object for every call', 400);

/** A room API with one method per kind of outcome. Counts how often its methods run. */
class Api extends RpcTarget {
	runs = 0;
	field = () => 'an instance field';
	#run() {
		this.runs++;
	}
	echo(value: unknown) {
		this.#run();
		return value;
	}
	many(...args: unknown[]) {
		this.#run();
		return args;
	}
	none() {
		this.#run();
	}
	async later(value: unknown) {
		this.#run();
		await null;
		return value;
	}
	thenable(value: unknown) {
		this.#run();
		return { then: (resolve: (v: unknown) => void) => resolve(value) };
	}
	fail(code: string) {
		this.#run();
		throw new RoomError(code, `failed with ${code}`, 409);
	}
	crash() {
		this.#run();
		throw new TypeError('plain crash');
	}
	async rejects() {
		this.#run();
		await null;
		throw new RoomError('late', 'rejected later', 418);
	}
	throwString() {
		this.#run();
		throw 'just a string';
	}
	throwObject() {
		this.#run();
		throw { code: 'obj', n: 1n };
	}
	throwErrorInObject() {
		this.#run();
		throw { inner: new Error('inside') };
	}
	throwShared() {
		this.#run();
		throw SHARED_ERROR;
	}
	withCause() {
		this.#run();
		throw Object.assign(new RoomError('caused', 'has a cause', 400), { cause: new Error('root') });
	}
	detailed() {
		this.#run();
		throw Object.assign(new RoomError('detailed', 'has details', 422), { details: { field: 'name' } });
	}
	aggregate() {
		this.#run();
		throw new AggregateError([new Error('a')], 'several');
	}
	errorInside() {
		this.#run();
		return { e: new RangeError('in a result') };
	}
	errorLookalike() {
		this.#run();
		return ['error', 'not an error', 'at all'];
	}
	target() {
		this.#run();
		return new Counter(3);
	}
	stub() {
		this.#run();
		return new RpcStub(new Counter(4));
	}
	promised() {
		this.#run();
		return new RpcStub(new Counter(5)).value();
	}
	fn() {
		this.#run();
		return () => 1;
	}
	instance() {
		this.#run();
		return new (class Foo {})();
	}
	map() {
		this.#run();
		return new Map([[1, 2]]);
	}
	deep() {
		this.#run();
		let value: unknown = 1;
		for (let i = 0; i < 300; i++) value = { value };
		return value;
	}
	get getter() {
		return (x: unknown) => ['from a getter', x];
	}
}

const call = (method: string, args: string) => [`["push",["pipeline",0,[${JSON.stringify(method)}],${args}]]`, '["pull",1]'];

const BATCHES: Array<[string, string[]]> = [
	['plain object', call('echo', '[{"n":1,"pad":"xxxxxxxx"}]')],
	[
		'every plain special value',
		call('many', '[["date",0],["bigint","12345678901234567890"],["undefined"],["inf"],["-inf"],["nan"],["bytes","AQID"],[[1,[[2,"x"]]]],null,true,"s"]'),
	],
	['-0 and 1e999 as written', call('many', '[-0,1e999,-1e999,0.1]')],
	['escaped keys', call('echo', '[{"__proto__":1,"toJSON":2,"constructor":3}]')],
	['keys spelled with escapes', call('echo', '[{"\\u005f_proto__":1,"\\u0074oJSON":2,"ok":"\\n"}]')],
	['nested objects, no arrays', call('many', '[{"a":{"b":{"c":1,"d":"x"}},"e":null},"s",1.5,false]')],
	['a string naming an Object.prototype key', call('many', '["toString",{"a":"constructor"}]')],
	['objects 254 deep with empty keys', call('echo', `[${'{"":'.repeat(254)}1${'}'.repeat(254)}]`)],
	['objects 255 deep with empty keys', call('echo', `[${'{"":'.repeat(255)}1${'}'.repeat(255)}]`)],
	['no result', call('none', '[]')],
	['an async result', call('later', '[{"a":[[1,2]]}]')],
	['a thenable result', call('thenable', '[7]')],
	['an Error lookalike array', call('errorLookalike', '[]')],
	['a RoomError', call('fail', '["sold_out"]')],
	['any other Error', call('crash', '[]')],
	['a later rejection', call('rejects', '[]')],
	['a thrown string', call('throwString', '[]')],
	['a thrown object', call('throwObject', '[]')],
	['a thrown object holding an Error', call('throwErrorInObject', '[]')],
	['one error object thrown twice', call('throwShared', '[]')],
	['an error with a cause', call('withCause', '[]')],
	['an error with object details', call('detailed', '[]')],
	['an AggregateError', call('aggregate', '[]')],
	['an Error inside a result', call('errorInside', '[]')],
	['an RpcTarget result', call('target', '[]')],
	['a stub result', call('stub', '[]')],
	['an RpcPromise result', call('promised', '[]')],
	['a function result', call('fn', '[]')],
	['a class instance result', call('instance', '[]')],
	['a Map result', call('map', '[]')],
	['a result too deep to encode', call('deep', '[]')],
	['a getter', call('getter', '[1]')],
	['an instance field', call('field', '[]')],
	['a private helper', call('#run', '[]')],
	['an Object.prototype name', call('toString', '[]')],
	['__proto__', call('__proto__', '[]')],
	['an unknown method', call('nosuch', '[]')],
	['too deep', call('echo', `[${'[['.repeat(300)}1${']]'.repeat(300)}]`)],
	['a pipelined argument', call('echo', '[["pipeline",0,["runs"]]]')],
	['an imported argument', call('echo', '[["import",0]]')],
	['an exported stub argument', call('echo', '[["export",-1]]')],
	['a stream argument', call('echo', '[["readable",0]]')],
	['an Error argument', call('echo', '[["error","TypeError","sent by the client"]]')],
	['a non-array argument list', call('echo', '5')],
	['whitespace', ['["push", ["pipeline", 0, ["echo"], [1]]]', '["pull",1]']],
	['an escaped method name', ['["push",["pipeline",0,["\\u0065cho"],[1]]]', '["pull",1]']],
	['a path into the result', ['["push",["pipeline",0,["echo","a"],[{"a":1}]]]', '["pull",1]']],
	['a pull of something else', [call('echo', '[1]')[0]!, '["pull",2]']],
	['no pull', [call('echo', '[1]')[0]!]],
	['two calls', [call('echo', '[1]')[0]!, call('echo', '[2]')[0]!, '["pull",1]', '["pull",2]']],
	['a pipelined call', ['["push",["pipeline",0,["target"],[]]]', '["push",["pipeline",1,["value"],[]]]', '["pull",2]']],
];

const OPTIONS: Array<[string, RpcSessionOptions]> = [
	['the room’s onSendError', { onSendError: toWireError }],
	['no onSendError', {}],
	['an onSendError that keeps stacks', { onSendError: () => SHARED_ERROR }],
	['an onSendError that returns nothing', { onSendError: () => {} }],
];

/** As the room hands a batch over: the single plain call when there is one, else every line parsed. */
function asTheRoomReadsIt(lines: string[]): CallBatch {
	const single = singleCall(lines);
	return single ? { lines, single } : { lines, messages: lines.map((l) => JSON.parse(l)) };
}

/** The replies, or how the batch failed (a session aborts on a message it cannot read). */
const settle = (replies: Promise<string[]>) =>
	replies.then(
		(ok) => ({ ok }),
		(error: unknown) => ({ threw: String(error) }),
	);

/** What a function returned, or what it threw. */
function outcome(run: () => unknown): { value: unknown } | { threw: string } {
	try {
		return { value: run() };
	} catch (error) {
		return { threw: String(error) };
	}
}

let errors: ReturnType<typeof spyOn>;
beforeEach(() => (errors = spyOn(console, 'error').mockImplementation(() => {})));
afterEach(() => errors.mockRestore());

describe('answerBatch equals a capnweb session', () => {
	for (const [optionsName, options] of OPTIONS) {
		test.each(BATCHES)(`${optionsName}: %s`, async (_, lines) => {
			const sends: unknown[] = [];
			const counting = { ...options, onSendError: options.onSendError && ((e: Error) => (sends.push(e), options.onSendError!(e))) };

			const reference = new Api();
			const expected = await settle(
				answerWithSession(
					lines.map((l) => JSON.parse(l)),
					reference,
					counting,
				),
			);
			const logged = errors.mock.calls.length;
			const sent = sends.length;

			const api = new Api();
			const actual = await settle(Promise.resolve(answerBatch(asTheRoomReadsIt(lines), api, counting)));

			expect(actual).toEqual(expected);
			expect(api.runs).toBe(reference.runs);
			expect(sends.length - sent).toBe(sent);
			expect(errors.mock.calls.length - logged).toBe(logged);
		});
	}

	test('no stack leaves the room', async () => {
		for (const method of ['fail', 'crash', 'rejects', 'withCause', 'aggregate', 'errorInside']) {
			const lines = call(method, '[]');
			const [reply] = await answerBatch(asTheRoomReadsIt(lines), new Api(), { onSendError: toWireError });
			expect(reply).not.toContain(' at ');
		}
	});
});

/** A client's listener: records every call the room makes. */
class Listener extends RpcTarget {
	log: unknown[] = [];
	event(name: string, payload: unknown) {
		this.log.push(['event', name, payload]);
	}
	closing(code: number, reason: string) {
		this.log.push(['closing', code, reason]);
	}
	eventually(n: number) {
		this.log.push(['eventually', n]);
	}
	boom(n: number) {
		this.log.push(['boom', n]);
		throw new Error('a listener that throws');
	}
	async rejects(n: number) {
		this.log.push(['rejects', n]);
		throw new Error('a listener that rejects');
	}
	get getter() {
		return (n: number) => this.log.push(['getter', n]);
	}
}

/** {@link Listener}'s methods on a class of its own, as the client's listener is. */
class PlainListener {
	log: unknown[] = [];
}
for (const name of Object.getOwnPropertyNames(Listener.prototype)) {
	if (name !== 'constructor') Object.defineProperty(PlainListener.prototype, name, Object.getOwnPropertyDescriptor(Listener.prototype, name)!);
}

/** `calls` between two plain events, to show what comes after them still runs. */
const between = (...calls: Array<[string, ...unknown[]]>) => encodeCalls([['event', 'a', 1], ...calls, ['event', 'b', 2]]);

const ONE_WAY: Array<[string, string[]]> = [
	[
		'events and a closing notice',
		encodeCalls([
			['event', 'chat:message', encodePayload({ text: 'hi', at: new Date(5), tags: new Set(['a']), big: 10n, none: undefined })],
			['event', 'session:list', encodePayload({ sessions: [{ ws_session_id: 'x', meta: [1, [2]] }] })],
			['event', 'n', encodePayload(undefined)],
			['closing', 4001, 'bye'],
		]),
	],
	['a call that throws, then more', between(['boom', 1], ['rejects', 2])],
	['an unknown method among them', between(['nosuch', 1])],
	['a getter among them', between(['getter', 1])],
	['an instance field', between(['log', 1])],
	['a pipelined argument', [...encodeCalls([['event', 'a', 1]]), '["push",["pipeline",0,["event"],["b",["pipeline",1]]]]']],
	['one event alone', encodeCalls([['event', 'solo', encodePayload({ sessions: [{ id: 'toString', meta: [1] }] })]])],
	['one call alone that is not an event', encodeCalls([['boom', 1]])],
	['one call alone to a name that starts like event', encodeCalls([['eventually', 1]])],
];

describe('deliverOneWay equals a capnweb session', () => {
	// Also to a listener that is no RpcTarget, as the client's own (capnweb loads only when a batch
	// needs a session).
	const cases = ONE_WAY.flatMap(([name, lines]) => [
		[name, lines, Listener] as const,
		[`${name}, to a listener that is not an RpcTarget`, lines, PlainListener] as const,
	]);
	test.each(cases)('%s', async (_, lines, Kind) => {
		const reference = new Listener();
		await deliverWithSession(lines, reference);
		const listener = new Kind();
		await deliverOneWay(lines, listener);
		await new Promise((resolve) => setTimeout(resolve, 0));
		expect(listener.log).toEqual(reference.log);
		expect(listener.log.length).toBeGreaterThan(0);
	});

	test("the method run is each listener's own, whichever was asked before", () => {
		class Other {
			event() {
				return 'other';
			}
		}
		const own = Object.assign(new Listener(), { event: () => 'own field' });
		for (let round = 0; round < 2; round++) {
			expect(plainMethod(new Listener(), 'event')).toBe(Listener.prototype.event as (...args: unknown[]) => unknown);
			expect(plainMethod(new Other(), 'event')).toBe(Other.prototype.event);
			// An instance field is a session's to refuse, as capnweb does.
			expect(plainMethod(own, 'event')).toBeUndefined();
			expect(plainMethod(new Listener(), 'toString')).toBeUndefined();
			expect(plainMethod(new Listener(), 'nosuch')).toBeUndefined();
		}
	});

	test('plain calls run before it returns', () => {
		const listener = new Listener();
		expect(deliverOneWay(encodeCalls([['event', 'a', encodePayload({ d: new Date(1) })]]), listener)).toBeUndefined();
		expect(listener.log).toEqual([['event', 'a', encodePayload({ d: new Date(1) })]]);
	});
});

describe('encodeCalls equals a capnweb session', () => {
	const CALLS: Array<[string, Array<[string, ...unknown[]]>]> = [
		['an event', [['event', 'chat:message', encodePayload({ text: 'hi', at: new Date(5), tags: new Set(['a']), big: 10n, none: undefined })]]],
		[
			'several events',
			[
				['event', 'a', encodePayload([1, [2, [3]]])],
				['event', 'b', encodePayload(undefined)],
				['event', 'c', encodePayload(null)],
			],
		],
		['raw values of every plain kind', [['event', 'x', new Date(1), 5n, undefined, Infinity, -Infinity, NaN, -0, new Uint8Array([1, 2]), [[1]], { a: [1] }]]],
		['a closing notice', [['closing', 4001, 'Removed from the room']]],
		['no arguments', [['ping']]],
		['an Error argument', [['event', 'e', new RangeError('r')]]],
		['an unusual name', [['with "quotes" and \\ \u2028', 1]]],
		[
			'a stub argument',
			[
				['event', 'a', 1],
				['event', 'b', new Counter(1)],
			],
		],
		['a function argument', [['event', 'f', () => 1]]],
		['a name the stub answers itself', [['event', 'a', 1], ['then', 1], ['toString'], ['event', 'b', 2]]],
		['a Map argument', [['event', 'm', new Map()]]],
	];
	test.each(CALLS)('%s', (_, calls) => {
		expect(outcome(() => encodeCalls(calls))).toEqual(outcome(() => encodeWithSession(calls)));
	});
});

describe("evaluate equals capnweb's deserialize", () => {
	const nested = (depth: number) => `${'[['.repeat(depth)}1${']]'.repeat(depth)}`;
	const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
	const cases: Array<[string, string]> = [
		...['1', '"s"', 'null', 'true', '-0', '1e999', '{}', '[[]]', '[[1,"a",null,false]]', '{"a":{"b":[[1,{"c":[[2]]}]]}}'].map(
			(t) => [t, t] as [string, string],
		),
		...['["date",5]', '["bigint","7"]', '["undefined"]', '["inf"]', '{"d":["date",5],"u":["undefined"]}', '[["x",["nan"]]]'].map(
			(t) => [t, t] as [string, string],
		),
		...['["bytes","AQID"]', '["error","TypeError","boom"]', '[1,2]', '["nosuch"]', '["pipeline",0]', '["export",-1]'].map((t) => [t, t] as [string, string]),
		...['{"__proto__":1}', '{"constructor":{"x":1}}', '{"toJSON":1}', '{"toString":"s","ok":1}', '{"hasOwnProperty":[[1]]}'].map(
			(t) => [t, t] as [string, string],
		),
		['arrays 254 deep', nested(254)],
		['arrays 255 deep', nested(255)],
		['arrays 256 deep', nested(256)],
		['objects 255 deep', deepObject(255)],
		['objects 256 deep', deepObject(256)],
		['objects 254 deep in an array', `[[${deepObject(254)}]]`],
		['objects 255 deep in an array', `[[${deepObject(255)}]]`],
		['not JSON', 'not json'],
		['cut short', '[[1]'],
	];
	test.each(cases)('%s', (_, text) => {
		const ours = outcome(() => evaluate(text));
		const theirs = outcome(() => deserialize(text));
		// What needs a session (stubs, pipelines) is left to one; without one capnweb refuses it too.
		if ('threw' in ours && ours.threw === String(NEEDS_SESSION)) expect(theirs).toHaveProperty('threw');
		// (Bun's toEqual tells -0 from 0, so the '-0' case is compared exactly.)
		else expect(ours).toEqual(theirs);
	});
});

describe('real traffic takes the plain paths', () => {
	test("a client's single call is a plain call and its pull", async () => {
		let sent: string[] = [];
		const batcher = new CallBatcher<{ echo(x: unknown): Promise<unknown> }>(async (messages) => ((sent = messages), []));
		await batcher.main.echo({ n: 1, d: new Date(2), list: [1, 2] }).catch(() => {});
		expect(singleCall(sent)).toEqual({ method: 'echo', args: [{ n: 1, d: new Date(2), list: [1, 2] }] });
	});

	test("the room's events are plain calls", () => {
		const [line] = encodeCalls([['event', 'x', encodePayload({ at: new Date(3), n: 1 })]]);
		expect(readPlainCall(line!)).toEqual({ method: 'event', args: ['x', encodePayload({ at: new Date(3), n: 1 })] });
	});
});
