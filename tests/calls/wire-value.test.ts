/**
 * `calls/shortcut/wire-value.ts` against capnweb itself: the client's plain path writes and reads
 * capnweb's values without capnweb, so what it writes must be `serialize`'s bytes, what it reads
 * `deserialize`'s values (and refusals), and what it leaves to a session exactly what needs one.
 */
import { describe, expect, test } from 'bun:test';
import { DEFAULT_LIMITS, deserialize, RpcPromise, RpcStub, RpcTarget, serialize } from 'capnweb';
import { LIMITS, NEEDS_SESSION, readData, STUB_NAMES, writeData } from '../../calls/shortcut/wire-value.js';
import { seededRandom } from '../support/random.js';

/** What a function returned, or the error it threw (as text). */
function outcome(run: () => unknown): { value: unknown } | { threw: string } {
	try {
		return { value: run() };
	} catch (error) {
		return { threw: String(error) };
	}
}

const bytes = new Uint8Array([0, 1, 2, 250, 255]);
const DATA: Array<[string, unknown]> = [
	['primitives', [1, -1.5, 'text', '', true, false, null]],
	['-0 and non-finite numbers', [-0, NaN, Infinity, -Infinity]],
	['undefined, alone and inside', [undefined, { a: undefined }, [undefined]]],
	['bigints', [0n, -12345678901234567890n, 10n ** 40n]],
	['dates', [new Date(0), new Date(-5), new Date(NaN)]],
	['nested arrays and objects', { a: [[1, [2, []]], {}], b: { c: { d: 'x' } } }],
	['keys capnweb keeps and drops', JSON.parse('{"__proto__":1,"toJSON":2,"constructor":{"x":1},"ok":3}')],
	['a Uint8Array', bytes],
	[
		'every byte container',
		[
			bytes.buffer.slice(0),
			new DataView(bytes.buffer.slice(0)),
			new Int8Array([-1, 2]),
			new Uint8ClampedArray([3]),
			new Int16Array([-300, 7]),
			new Uint16Array([65535]),
			new Int32Array([-1]),
			new Uint32Array([1 << 31]),
			new BigInt64Array([-1n]),
			new BigUint64Array([2n ** 63n]),
			new Float32Array([1.5]),
			new Float64Array([Math.PI]),
		],
	],
	['a typed array over part of a buffer', new Uint16Array(new Uint8Array([9, 1, 2, 3, 4, 9]).buffer, 2, 1)],
	['URLs and Headers', [new URL('https://example.com/a?b#c'), new Headers([['x-a', '1']])]],
	['a string that looks like a special value', ['date', 5]],
	['255 levels deep', Array.from({ length: 254 }).reduce<unknown>((inner) => ({ inner }), 1)],
];

const NOT_DATA: Array<[string, unknown]> = [
	['an Error', new RangeError('r')],
	['an Error inside', { e: new Error('x') }],
	['a function', () => 1],
	['an RpcTarget', new (class extends RpcTarget {})()],
	['a stub', new RpcStub(new (class extends RpcTarget {})())],
	['a class instance', new (class Foo {})()],
	['a Map', new Map()],
	['a null-prototype object', Object.create(null)],
	['a symbol', Symbol('s')],
	['a Buffer', Buffer.from([1])],
	['a ReadableStream', new ReadableStream()],
	['a Request', new Request('https://example.com')],
	['too deep', Array.from({ length: 300 }).reduce<unknown>((inner) => [inner], 1)],
];

describe('writeData is serialize, for data', () => {
	test.each(DATA)('%s', (_, value) => {
		expect(writeData(value)).toBe(serialize(value));
	});

	test.each(NOT_DATA)('%s: left to a session', (_, value) => {
		expect(writeData(value)).toBeUndefined();
	});
});

describe('readData is deserialize', () => {
	// (An invalid Date never equals another for toEqual: Dates compare by their time, as text.)
	const dated = (value: unknown): unknown => (value instanceof Date ? `Date(${value.getTime()})` : Array.isArray(value) ? value.map(dated) : value);
	test.each(DATA)('%s, read back', (_, value) => {
		const text = serialize(value);
		expect(outcome(() => dated(readData(JSON.parse(text), 0)))).toEqual(outcome(() => dated(deserialize(text))));
	});

	const errorWithProps = Object.assign(new TypeError('t'), { code: 'c', n: 1n, nested: { at: new Date(1) } });
	const WIRE: Array<[string, string]> = [
		['errors of every kind', serialize([new Error('e'), new RangeError('r'), new AggregateError([], 'agg'), errorWithProps])],
		['an error with a stack and props', '["error","RoomError","m","at x",{"code":"sold_out","status":409,"toJSON":1,"name":"n"}]'],
		['an error of an unknown class', '["error","MyError","m"]'],
		['a malformed error', '["error",1,"m"]'],
		['error props that are not an object', '["error","Error","m",null,[1]]'],
		['a bigint too long', `["bigint","${'9'.repeat(16385)}"]`],
		['a bigint that is not one', '["bigint","0x1z"]'],
		['a bad bytes marker', '["bytes","AQI","Nope"]'],
		['a bytes marker that is not a string', '["bytes","AQI",5]'],
		['bytes of the wrong length', '["bytes","AQID","Uint16Array"]'],
		['bytes that are not a string', '["bytes",5]'],
		['a URL that is not one', '["url","not a url"]'],
		['an unknown tag', '["nosuch",1]'],
		['a two-element array', '[1,2]'],
		['undefined with a payload', '["undefined",1]'],
		['a date that is not one', '["date","x"]'],
		['arrays 256 deep', `${'[['.repeat(256)}1${']]'.repeat(256)}`],
		['objects 256 deep', `${'{"a":'.repeat(256)}1${'}'.repeat(256)}`],
	];
	test.each(WIRE)('%s', (_, text) => {
		expect(outcome(() => readData(JSON.parse(text), 0))).toEqual(outcome(() => deserialize(text)));
	});

	test.each([
		'["export",1]',
		'["promise",1]',
		'["import",0]',
		'["pipeline",0,["a"]]',
		'["readable",0]',
		'["writable",0]',
		'["remap",0,[],[],[]]',
		'[[1,{"a":["export",2]}]]',
	])('%s: left to a session', (text) => {
		expect(() => readData(JSON.parse(text), 0)).toThrow(NEEDS_SESSION);
		// …which capnweb, without a session, refuses too.
		expect(() => deserialize(text)).toThrow();
	});

	test('generated values: the same bytes written, the same values read', () => {
		const random = seededRandom(15);
		const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)]!;
		const leaf = () =>
			pick<() => unknown>([
				() => random() * 1e6 - 5e5,
				() => 'x'.repeat(random() * 5),
				() => null,
				() => random() < 0.5,
				() => undefined,
				() => BigInt(Math.floor(random() * 1e9)),
				() => new Date(Math.floor(random() * 1e12)),
				() => new Uint8Array([random() * 255]),
				() => pick([NaN, Infinity, -0]),
			])();
		const value = (depth: number): unknown => {
			if (depth > 4 || random() < 0.3) return leaf();
			if (random() < 0.5) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
			return Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, (_, i) => [pick(['a', 'b', `k${i}`, 'toString', '']), value(depth + 1)]));
		};
		for (let i = 0; i < 400; i++) {
			const v = value(0);
			const text = serialize(v);
			expect(writeData(v)).toBe(text);
			expect(readData(JSON.parse(text), 0)).toEqual(deserialize(text));
		}
	});
});

test("the names a stub answers itself are capnweb's", () => {
	const names = new Set<string>();
	for (let proto: object | null = RpcPromise.prototype; proto; proto = Object.getPrototypeOf(proto))
		for (const name of Object.getOwnPropertyNames(proto)) names.add(name);
	expect([...STUB_NAMES].sort()).toEqual([...names].sort());
});

test("the limits are capnweb's", () => {
	expect(DEFAULT_LIMITS).toEqual({ ...LIMITS });
});
