/**
 * The payload codec (`rpc/payload.ts`) against superjson 2.2.6 itself (a devDependency kept for
 * this test only): for every value in the corpus, and for a few hundred generated ones,
 *
 * - `encodePayload` produces exactly what `superjson.serialize` does (same `json`, same `meta`);
 * - `decodePayload` of superjson's output equals `superjson.deserialize`'s, and superjson decodes
 *   ours to the same value — with the payload copied (as the tab/worker paths do) and in place
 *   after a trip through JSON (as a frame from the socket);
 * - shared and cyclic references come back shared and cyclic;
 * - what superjson refuses (`__proto__`/`constructor`/`prototype` keys or paths, unknown types),
 *   we refuse too.
 */
import { describe, expect, test } from 'bun:test';
import superjson from 'superjson';
import { decodePayload, encodePayload, type EncodedPayload } from '../../rpc/payload.js';

class Point {
	constructor(
		public x: number,
		public y: number,
	) {}
}

const shared = { id: 1, at: new Date(7) };
const sharedDate = new Date(Date.UTC(2024, 1, 29, 12));
const sharedSet = new Set(['x', 'y']);
const sharedKey = { key: true };

const cyclic: Record<string, unknown> = { name: 'root' };
cyclic.self = cyclic;
const cycleA: Record<string, unknown> = { name: 'a' };
const cycleB: Record<string, unknown> = { name: 'b', a: cycleA };
cycleA.b = cycleB;
const selfArray: unknown[] = [1];
selfArray.push(selfArray);
const selfMap = new Map<string, unknown>([['n', 1]]);
selfMap.set('me', selfMap);

const withCause = new Error('outer', { cause: new TypeError('inner') });
const withExtras = Object.assign(new RangeError('out of range'), { code: 42 });
const renamed = new Error('renamed');
renamed.name = 'CustomError';
const causeObject = new Error('with an object cause', { cause: { at: new Date(3), n: 10n } });

const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, d: new Date(9) });

/** JSON-safe values: they survive a trip through JSON, as a frame from the socket does. */
const corpus: [string, unknown][] = [
	['null', null],
	['a number', 1.5],
	['a string', 'hi'],
	['true', true],
	['an empty object', {}],
	['an empty array', []],
	['undefined', undefined],
	['-0', -0],
	['NaN', NaN],
	['Infinity', Infinity],
	['-Infinity', -Infinity],
	['a bigint', 12345678901234567890n],
	['a negative bigint', -5n],
	['a Date', new Date(Date.UTC(2020, 0, 1))],
	['a RegExp', /a.b\/c[/]?/gimsu],
	['a RegExp without flags', new RegExp('x|y')],
	['a Set', new Set([1, 'a', undefined, 2n, new Date(1)])],
	[
		'a Map',
		new Map<unknown, unknown>([
			['a', 1],
			['b', new Date(2)],
			['c', undefined],
		]),
	],
	[
		'a Map with non-string keys',
		new Map<unknown, unknown>([
			[1, 'one'],
			[2n, 'two'],
			[new Date(4), 'date'],
			[undefined, 'u'],
			[NaN, 'nan'],
			[null, 'null'],
		]),
	],
	[
		'a Map with object keys',
		new Map<unknown, unknown>([
			[{ k: 1 }, 'v'],
			[[1, 2], new Set([3])],
			[new Map([[1, 2]]), new Map([[new Date(5), 3n]])],
		]),
	],
	['an Error', new Error('boom')],
	['a TypeError', new TypeError('wrong type')],
	['an Error with an Error cause', withCause],
	['an Error with an object cause', causeObject],
	['an Error with an undefined cause', new Error('x', { cause: undefined })],
	['an Error with extra properties', withExtras],
	['an Error renamed', renamed],
	['a URL', new URL('https://example.com/a/b?c=d#e')],
	['numbers that JSON loses', { nan: NaN, inf: Infinity, ninf: -Infinity, nzero: -0, zero: 0, list: [-0, NaN, 1] }],
	['undefined in objects and arrays', { a: undefined, b: [undefined, 1, undefined], c: { d: undefined } }],
	['nested containers', { a: [new Set([new Map([['k', [new Date(6), 7n]]])])], b: { c: { d: new URL('http://x/') } } }],
	['keys needing escapes', { 'a.b': new Date(1), 'c\\d': [undefined], '': 1n, '.': { '..': NaN }, '\\.': -0, 'a\\\\.b\\': new Set([1]) }],
	['keys that look like paths', { 'a.0': undefined, a: [undefined], '0': { '1': 2n } }],
	['numeric keys', { 2: new Date(2), 1: undefined, 10: 'ten' }],
	['unicode keys', { 'ü.ñ': 1n, 日本: new Date(0) }],
	['keys near the forbidden ones', { __proto: 1n, proto__: undefined, constructors: new Date(1), Prototype: NaN }],
	['a sparse array', [1, , 3]], // eslint-disable-line no-sparse-arrays
	['an array of holes', [, , undefined]], // eslint-disable-line no-sparse-arrays
	['trailing holes', [1n, , ,]], // eslint-disable-line no-sparse-arrays
	['the same object twice', { a: shared, b: shared, c: [shared] }],
	['the same Date twice', { a: sharedDate, b: [sharedDate], c: new Map([['d', sharedDate]]) }],
	['the same Set twice', [sharedSet, { again: sharedSet }]],
	[
		'the same object as a Map key and value',
		new Map<unknown, unknown>([
			[sharedKey, sharedKey],
			['other', sharedKey],
		]),
	],
	['an object in a Set and at a shorter path', { deep: { set: new Set([shared, 2, 3]) }, s: shared }],
	[
		'an object in a Map key and at a shorter path',
		{
			m: new Map<unknown, unknown>([
				['first', 1],
				[sharedKey, 2],
			]),
			k: sharedKey,
		},
	],
	['an object in an Error cause and elsewhere', { e: new Error('c', { cause: shared }), s: shared }],
	['repeated bigints and NaNs', [1n, 1n, NaN, { n: NaN }, 2n]],
	['repeated strings and numbers', ['s', 's', 1, 1, true, true]],
	['a top-level array with a shared root', [[shared], shared]],
	['a Set of Dates', new Set([new Date(1), new Date(2)])],
	['empty containers', { m: new Map(), s: new Set(), a: [], o: {} }],
	[
		'typed arrays',
		{
			u8: new Uint8Array([1, 2, 255]),
			i16: new Int16Array([-1, 2]),
			f32: new Float32Array([0.5]),
			f64: new Float64Array([1.25, -3]),
			c: new Uint8ClampedArray([9]),
		},
	],
	['a typed array at the root', new Uint32Array([1, 2, 3])],
	[
		'a deep mix',
		{ users: [{ id: 1n, seen: new Date(10), tags: new Set(['a']), prefs: new Map([['theme', { dark: true, since: new Date(11) }]]) }], next: undefined },
	],
];

/** Values that don't survive JSON (references, pass-through objects): compared without the wire. */
const inMemory: [string, unknown][] = [
	['a cycle to the root', cyclic],
	['a two-object cycle', { a: cycleA }],
	['an array containing itself', selfArray],
	['a Map containing itself', selfMap],
	['a cycle inside a Set', { s: new Set([cyclic]) }],
	['an invalid Date', new Date(NaN)],
	['an invalid Date, nested and shared', { a: new Date('nope'), list: [new Date(NaN)] }],
	['a class instance (passed through)', { p: new Point(1, 2) }],
	['a function (passed through)', { f: Math.max }],
	['a symbol (passed through)', { s: Symbol('x') }],
	['an object with a null prototype', { o: nullProto }],
	['a DataView (passed through)', new DataView(new ArrayBuffer(2))],
];

const everything = [...corpus, ...inMemory];

/**
 * A decoded value as a tree of plain arrays that spells out what `toStrictEqual` can't be trusted
 * to compare: Map and Set order, Maps with several deep-equal object keys (Bun's deep equality
 * mismatches those), holes, -0, Error fields, and which objects are the same object (`['same', n]`
 * points at the n-th object met, so sharing and cycles must match too).
 */
function shape(value: unknown, met = new Map<object, number>()): unknown {
	if (typeof value == 'bigint') return ['bigint', String(value)];
	if (Object.is(value, -0)) return ['-0'];
	if (Object(value) !== value || typeof value == 'function') return value;
	const object = value as object;
	const seen = met.get(object);
	if (seen !== undefined) return ['same', seen];
	met.set(object, met.size);
	const inner = (v: unknown) => shape(v, met);
	if (object instanceof Date) return ['Date', object.getTime()];
	if (object instanceof RegExp) return ['RegExp', String(object)];
	if (object instanceof URL) return ['URL', object.href];
	if (object instanceof Error)
		return ['Error', object.constructor.name, object.name, object.message, 'cause' in object, inner(object.cause), object.stack, Object.keys(object)];
	if (object instanceof Map) return ['Map', [...object].map(([k, v]) => [inner(k), inner(v)])];
	if (object instanceof Set) return ['Set', [...object].map(inner)];
	if (ArrayBuffer.isView(object)) return [object.constructor.name, object instanceof DataView ? object.byteLength : [...(object as Uint8Array)]];
	if (Array.isArray(object)) return ['Array', object.length, Object.entries(object).map(([k, v]) => [k, inner(v)])];
	const proto = Object.getPrototypeOf(object);
	return [
		proto === Object.prototype ? 'Object' : proto === null ? 'null-prototype' : proto.constructor.name,
		Object.entries(object).map(([k, v]) => [k, inner(v)]),
	];
}

/** Both decoded values compared as shapes. */
function expectSameValue(ours: unknown, theirs: unknown) {
	expect(shape(ours)).toStrictEqual(shape(theirs));
}

/** Through JSON, as a frame does: what a superjson-encoded payload looks like on arrival. */
const wire = (payload: unknown) => JSON.parse(JSON.stringify(payload)) as EncodedPayload;

describe('encodePayload writes what superjson.serialize writes', () => {
	test.each(everything)('%s', (_, value) => {
		expect(encodePayload(value)).toStrictEqual(superjson.serialize(value) as EncodedPayload);
	});
});

describe('decodePayload reads what superjson.deserialize reads', () => {
	const both = (payload: EncodedPayload) =>
		expectSameValue(decodePayload(payload), superjson.deserialize(payload as Parameters<typeof superjson.deserialize>[0]));

	test.each(corpus)('%s: superjson → ours and ours → superjson, through JSON, copied', (_, value) => {
		both(wire(superjson.serialize(value)));
		both(wire(encodePayload(value)));
	});

	test.each(inMemory)('%s: superjson → ours and ours → superjson, copied', (_, value) => {
		both(superjson.serialize(value) as EncodedPayload);
		both(encodePayload(value));
	});

	test.each(corpus)('%s: through JSON, decoded in place', (_, value) => {
		const text = JSON.stringify(superjson.serialize(value));
		expectSameValue(decodePayload(JSON.parse(text), true), superjson.parse(text));
	});

	test('decoding a copy leaves the payload alone', () => {
		const payload = wire(encodePayload({ at: new Date(1), m: new Map([[1, 2]]) }));
		const before = JSON.stringify(payload);
		decodePayload(payload);
		expect(JSON.stringify(payload)).toBe(before);
		expect(decodePayload(payload)).toEqual({ at: new Date(1), m: new Map([[1, 2]]) });
	});

	test('a payload that shares an object inside its json (a structured clone of one) decodes', () => {
		// An encoder puts a repeated object's encoding in both places; a structured clone keeps that
		// one object. Each place is converted on its own copy (superjson's copy keeps the sharing
		// and converts the shared part twice: it fails on this RegExp).
		const inner = { r: /x/g, at: new Date(1) };
		const payload = structuredClone(encodePayload({ a: inner, b: inner }));
		const decoded = decodePayload<{ a: typeof inner; b: typeof inner }>(payload);
		expect(decoded.a).toEqual(inner);
		expect(decoded.b).toBe(decoded.a);
	});

	test('the values come back as the right types', () => {
		const decoded = decodePayload<Record<string, unknown>>(
			wire(
				encodePayload({
					d: new Date(5),
					b: 5n,
					s: new Set([1]),
					m: new Map([[1, 2]]),
					r: /x/g,
					u: new URL('http://a/'),
					e: new TypeError('t'),
					n: -0,
					t: new Uint8Array([1]),
				}),
			),
			true,
		);
		expect(decoded.d).toBeInstanceOf(Date);
		expect(decoded.b).toBe(5n);
		expect(decoded.s).toBeInstanceOf(Set);
		expect(decoded.m).toBeInstanceOf(Map);
		expect((decoded.r as RegExp).flags).toBe('g');
		expect(decoded.u).toBeInstanceOf(URL);
		// Like superjson: an Error, named after the original; no subclass, no stack.
		expect(decoded.e).toBeInstanceOf(Error);
		expect((decoded.e as Error).name).toBe('TypeError');
		expect(Object.is(decoded.n, -0)).toBe(true);
		expect(decoded.t).toBeInstanceOf(Uint8Array);
	});
});

describe('references', () => {
	test('shared objects come back shared, through JSON', () => {
		const value = { a: shared, b: [shared], m: new Map([['k', shared]]), s: new Set([shared]) };
		const decoded = decodePayload<typeof value>(wire(encodePayload(value)), true);
		expect(decoded.b[0]).toBe(decoded.a);
		expect(decoded.m.get('k')).toBe(decoded.a);
		expect([...decoded.s][0]).toBe(decoded.a);
	});

	test('a shared Map key stays the key', () => {
		const value = { k: sharedKey, m: new Map([[sharedKey, 1]]) };
		const decoded = decodePayload<typeof value>(wire(encodePayload(value)), true);
		expect(decoded.m.get(decoded.k)).toBe(1);
	});

	test('cycles come back as cycles', () => {
		const root = decodePayload<Record<string, unknown>>(wire(encodePayload(cyclic)), true);
		expect(root.self).toBe(root);
		const { a } = decodePayload<{ a: Record<string, Record<string, unknown>> }>(wire(encodePayload({ a: cycleA })), true);
		expect(a.b!.a).toBe(a);
		const map = decodePayload<Map<string, unknown>>(wire(encodePayload(selfMap)), true);
		expect(map.get('me')).toBe(map);
	});
});

describe('refusals, as superjson refuses', () => {
	const unsafeValues: [string, unknown][] = [
		['an own __proto__ key', JSON.parse('{"a":{"__proto__":{"polluted":true}}}')],
		['a constructor key', { constructor: 1 }],
		['a prototype key', [{ prototype: 1 }]],
	];
	test.each(unsafeValues)('encoding %s throws', (_, value) => {
		expect(() => superjson.serialize(value)).toThrow();
		expect(() => encodePayload(value)).toThrow();
	});

	const unsafePayloads: [string, EncodedPayload][] = [
		['a __proto__ path in values', { json: {}, meta: { values: { '__proto__.polluted': ['undefined'] }, v: 1 } }],
		['a __proto__ key in values', { json: {}, meta: { values: JSON.parse('{"__proto__":{"polluted":["undefined"]}}'), v: 1 } }],
		['a constructor path in values', { json: { a: {} }, meta: { values: { 'a.constructor.prototype.polluted': ['undefined'] }, v: 1 } }],
		['a __proto__ path in equalities', { json: { a: {} }, meta: { referentialEqualities: { a: ['__proto__'] }, v: 1 } }],
		['a __proto__ source in equalities', { json: { a: {} }, meta: { referentialEqualities: JSON.parse('{"__proto__":["a"]}'), v: 1 } }],
		['a prototype root equality', { json: { a: {} }, meta: { referentialEqualities: [['a.prototype']], v: 1 } }],
		['an unknown type', { json: { a: 1 }, meta: { values: { a: ['nope'] }, v: 1 } }],
		['a type named after an Object.prototype member', { json: { a: 1 }, meta: { values: { a: ['constructor'] }, v: 1 } }],
		['an unknown typed array', { json: { a: [1] }, meta: { values: { a: [['typed-array', 'Function']] }, v: 1 } }],
		['a registered-class type', { json: { a: {} }, meta: { values: { a: [['class', 'Point']] }, v: 1 } }],
		['a bad escape in a path', { json: { a: 1 }, meta: { values: { 'a\\x': ['undefined'] }, v: 1 } }],
	];
	test.each(unsafePayloads)('decoding %s throws', (_, payload) => {
		expect(() => superjson.deserialize(structuredClone(payload) as Parameters<typeof superjson.deserialize>[0])).toThrow();
		expect(() => decodePayload(structuredClone(payload))).toThrow();
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
	});
});

/** A small deterministic generator (mulberry32), so a failure replays. */
function generator(seed: number) {
	const random = () => {
		seed = (seed + 0x6d2b79f5) | 0;
		let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
	const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
	const keys = ['a', 'b.c', 'd\\e', '', '0', '1', 'x.y.z', '\\', 'k'];
	const pool: object[] = [];
	const value = (depth: number): unknown => {
		const leaves = [
			() => undefined,
			() => null,
			() => Math.floor(random() * 100),
			() => -0,
			() => NaN,
			() => Infinity,
			() => BigInt(Math.floor(random() * 10)),
			() => new Date(Math.floor(random() * 1e12)),
			() => pick(keys),
			() => /r[e]g/g,
			() => new URL('https://h/' + pick(keys)),
			() => new Uint8Array([1, 2]),
		];
		if (depth <= 0 || random() < 0.2) return pick(leaves)();
		// Now and then, the same object again: shared references across the value.
		if (pool.length && random() < 0.3) return pick(pool);
		const size = Math.floor(random() * 4);
		const children = () => Array.from({ length: size }, () => value(depth - 1));
		let made: object;
		switch (Math.floor(random() * 6)) {
			case 0:
				made = children();
				// Now and then a cycle.
				if (random() < 0.2) (made as unknown[]).push(made);
				break;
			case 1:
				made = Object.fromEntries(children().map((child) => [pick(keys), child]));
				break;
			case 2:
				made = new Set(children());
				break;
			case 3:
				made = new Map(children().map((child) => [random() < 0.5 ? pick(keys) : value(depth - 1), child]));
				if (random() < 0.2) (made as Map<unknown, unknown>).set('me', made);
				break;
			case 4:
				made = new Error(pick(keys), random() < 0.5 ? { cause: value(depth - 1) } : undefined);
				break;
			default: {
				const holey: unknown[] = [];
				holey[3] = value(depth - 1);
				made = holey;
			}
		}
		pool.push(made);
		return made;
	};
	return () => value(4);
}

/**
 * Decodes a payload (as JSON text) with both, in place or copied: the same value, or both throw.
 * superjson fails on some of its own output: a cycle through a Set, or a repeat inside a Set or Map
 * that is also reached through the cycle, can leave an equality pointing at a row that isn't there.
 */
function sameOutcome(text: string, fresh: boolean): void {
	let theirs: unknown;
	try {
		theirs = fresh ? superjson.parse(text) : superjson.deserialize(JSON.parse(text));
	} catch {
		expect(() => decodePayload(JSON.parse(text), fresh)).toThrow();
		return;
	}
	expectSameValue(decodePayload(JSON.parse(text), fresh), theirs);
}

test('generated values: same encoding, same decoding, either way', () => {
	const next = generator(20260426);
	let withEqualities = 0;
	for (let i = 0; i < 400; i++) {
		const value = next();
		const theirs = superjson.serialize(value);
		expect(encodePayload(value)).toStrictEqual(theirs as EncodedPayload);
		if (theirs.meta?.referentialEqualities) withEqualities++;
		// Through JSON: superjson itself fails on its own output when a shared object holds a
		// converted value (its copy keeps the sharing and converts it twice); the wire never shares.
		const text = JSON.stringify(theirs);
		sameOutcome(text, false);
		sameOutcome(text, true);
	}
	// The generator shares objects often enough that equalities are exercised.
	expect(withEqualities).toBeGreaterThan(50);
});
