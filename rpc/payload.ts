/**
 * Event payloads travel superjson-encoded, so Date, Map, Set, BigInt, undefined and friends arrive
 * intact. The encoded form is a plain object (`{json, meta?}`), not a string: capnweb carries it as
 * a structured value, so there is no JSON-inside-JSON escaping on the wire.
 *
 * Room RPC arguments and results are *not* wrapped: capnweb encodes those itself (Date, BigInt,
 * Uint8Array, Error, stubs), which keeps promise pipelining intact.
 *
 * The codec is our own, written to superjson 2.2.6's wire format (`{json, meta: {values,
 * referentialEqualities, v: 1}}`) and its default instance's behaviour, so either end may still be
 * superjson: undefined, bigint, Date, RegExp, Set, Map, Error (name, message, cause), URL, NaN,
 * ±Infinity, -0 and typed arrays; referential equalities (shared and cyclic references) are kept.
 * Like superjson it passes anything else (class instances, functions, invalid dates, symbols)
 * through untouched, and refuses the keys `__proto__`, `constructor` and `prototype`.
 * `tests/rpc/payload.test.ts` checks it against superjson itself. Left out: superjson's registries
 * (classes, symbols, custom types), which need registration, and the path syntax of payloads without
 * `v` (older superjson versions), which only differs for keys holding a backslash.
 *
 * Paths name a place in the value: keys joined by `.` (`.` and `\` escaped by `\`); a Set member is
 * addressed by its position, a Map entry by its position then `0` (the key) or `1` (the value).
 *
 * Decoding is stricter than superjson's, because the room decodes whatever a browser sends (and the
 * browser whatever the room relays): an annotation must describe a value of the shape its encoder
 * writes (a typed array over an array of numbers, never over a number it would allocate), a path
 * must lead to a place that exists (it never creates one), and the work and the value's unfolded
 * size stay proportional to the payload (`tests/security/payload.test.ts`). Anything else throws an
 * Error whose message starts with `Bad payload: `. Everything superjson writes still decodes as
 * superjson decodes it.
 *
 * Three modules: `payload-json.ts` (the wire shape, limits, and reading a payload without `meta`),
 * `payload-encode.ts` (the encoder) and this one (the decoder, and both exported together).
 */
import { fail, isObject, isPlainObject, isString, MAX_DEPTH, readJson, unsafe, weigh, type EncodedPayload, type Meta } from './payload-json.js';

export type { EncodedPayload } from './payload-json.js';
export { encodePayload } from './payload-encode.js';

/** Longest bigint: capnweb's `maxBigIntDigits` (parsing digits takes more than linear time). */
const MAX_BIGINT_DIGITS = 16_384;
/**
 * Work allowed (path steps, Set and Map positions, elements checked) per unit of payload (a value,
 * or a character of `meta`), over a floor. Decoding superjson's output takes a few units per unit;
 * a payload whose paths repeat work (thousands of paths into one big Set, each moving a member)
 * runs out.
 */
const WORK_PER_UNIT = 16;
const MIN_WORK = 2 ** 20;
/**
 * How large the decoded value may be, unfolded (shared parts counted each time they are reached, as
 * JSON.stringify or any walk that doesn't track references sees it), per unit of `json` (a value,
 * or 16 characters), over a floor. An encoder writes a repeat in full at each place, so superjson's
 * output unfolds to about its own size; equalities nesting shared parts in shared parts (a 30-level
 * binary tree of references, a few hundred bytes) would unfold to billions.
 */
const UNFOLD_PER_UNIT = 4;
const MIN_UNFOLD = 2 ** 16;

/** Charges work against the decoding's allowance; throws once it is spent. */
type Spend = (units: number) => void;

/** `json` as a dense array, its elements charged; a Set's members, a Map's entries, a typed array's numbers. */
function dense(json: unknown, what: string, spend: Spend): unknown[] {
	if (!Array.isArray(json)) return fail(`${what} must be an array`);
	spend(json.length);
	// No holes: an encoder spreads the value into an array, and a hole (only in memory) would read as undefined.
	for (let i = 0; i < json.length; i++) if (!(i in json)) fail(`${what} has a hole`);
	return json;
}

/** The typed arrays superjson knows, and the two it leaves out (whose elements are bigints, so they only travel in memory). */
const typedArrays: Record<string, new (values: unknown[]) => unknown> = Object.assign(
	Object.create(null),
	Object.fromEntries(
		[
			'Int8Array',
			'Uint8Array',
			'Uint8ClampedArray',
			'Int16Array',
			'Uint16Array',
			'Int32Array',
			'Uint32Array',
			'Float32Array',
			'Float64Array',
			'BigInt64Array',
			'BigUint64Array',
		]
			.filter((name) => typeof (globalThis as any)[name] === 'function')
			.map((name) => [name, (globalThis as any)[name]]),
	),
);

/**
 * A typed array from the array of its elements, never from anything else: `new Float64Array(1e9)`
 * (over a number), a string or an object with a `length` would allocate what the payload names.
 */
function readTypedArray(name: unknown, json: unknown, spend: Spend): unknown {
	const make = isString(name) ? typedArrays[name] : undefined;
	if (!make) return fail(`unknown typed array ${String(name)}`);
	const elements = dense(json, 'a typed array', spend);
	// JSON turns NaN and ±Infinity into null (superjson then reads 0): null is a number here.
	const element = (name as string).startsWith('Big') ? (x: unknown) => typeof x === 'bigint' : (x: unknown) => typeof x === 'number' || x === null;
	return elements.every(element) ? new make(elements) : fail('a typed array must hold only numbers');
}

/** What `number` annotates: the numbers JSON can't hold. */
const numbers: Record<string, number> = Object.assign(Object.create(null), { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 });

/** Each kind's reader: it checks that `json` has the shape the encoder writes, then rebuilds the value. */
const readers: Record<string, (json: any, spend: Spend) => unknown> = {
	// Null prototype: a kind from the wire must not reach `Object.prototype`'s members.
	__proto__: null as never,
	undefined: (json) => (json === null ? undefined : fail('undefined must be written as null')),
	// Decimal digits only (BigInt() would also take hex, blanks and ''), and not too many.
	bigint: (json) => {
		const digits = isString(json) ? json.length - +json.startsWith('-') : Infinity;
		return digits <= MAX_BIGINT_DIGITS && /^-?\d+$/.test(json) ? BigInt(json) : fail(`a bigint must be up to ${MAX_BIGINT_DIGITS} decimal digits`);
	},
	Date: (json) => (isString(json) || typeof json === 'number' ? new Date(json) : fail('a Date must be a string or a number')),
	Error: (json) => {
		if (!isPlainObject(json) || !isString(json.name) || !isString(json.message) || !(json.stack === undefined || isString(json.stack))) {
			return fail('an Error must be an object with a string name and message');
		}
		const error = new Error(json.message, { cause: json.cause });
		error.name = json.name;
		// superjson sends no stack and sets the (missing) one it received.
		error.stack = json.stack;
		return error;
	},
	regexp: (json) => {
		// `/source/flags`, as String(regexp) writes it.
		const slash = isString(json) && json.startsWith('/') ? json.lastIndexOf('/') : 0;
		if (slash < 1) return fail('a regexp must be a string /source/flags');
		try {
			return new RegExp(json.slice(1, slash), json.slice(slash + 1));
		} catch (error) {
			return fail(`regexp: ${(error as Error).message}`);
		}
	},
	set: (json, spend) => new Set(dense(json, 'a Set', spend)),
	map: (json, spend) => {
		const entries = dense(json, 'a Map', spend);
		// `new Map` would also take `[k]`, `[k, v, x]` or `{0: k, 1: v}`; the encoder writes pairs.
		for (const entry of entries) if (!Array.isArray(entry) || entry.length !== 2) fail('a Map entry must be a [key, value] pair');
		return new Map(entries as [unknown, unknown][]);
	},
	number: (json) => (isString(json) && json in numbers ? numbers[json] : fail("a number must be 'NaN', 'Infinity', '-Infinity' or '-0'")),
	URL: (json) => {
		if (!isString(json)) return fail('a URL must be a string');
		try {
			return new URL(json);
		} catch {
			return fail(`not a URL: ${json}`);
		}
	},
};

/** The value `json` annotated with `kind` stands for. */
function read(json: unknown, kind: unknown, spend: Spend): unknown {
	if (isString(kind)) return (readers[kind] ?? fail(`unknown type ${kind}`))(json, spend);
	if (Array.isArray(kind) && kind.length === 2 && kind[0] === 'typed-array') return readTypedArray(kind[1], json, spend);
	return fail(`unknown type ${JSON.stringify(kind)}`);
}

/** A path's keys; throws on a bad escape, an unsafe key, or more keys than fit below `depth`. */
function parsePath(path: unknown, depth = 0): string[] {
	if (!isString(path)) return fail('a path must be a string');
	const keys: string[] = [];
	let key = '';
	for (let i = 0; i < path.length; i++) {
		let char = path.charAt(i);
		if (char === '.') {
			keys.push(key);
			key = '';
			// A path is never longer than the value is deep (and a key follows every dot).
			if (depth + keys.length >= MAX_DEPTH) fail(`a path deeper than ${MAX_DEPTH}`);
			continue;
		}
		// Only `\\` and `\.` are escapes (a lone `\` at the end reads as '', and fails).
		if (char === '\\' && (char = path.charAt(++i)) !== '\\' && char !== '.') fail(`bad escape in path ${path}`);
		key += char;
	}
	keys.push(key);
	if (depth + keys.length > MAX_DEPTH) fail(`a path deeper than ${MAX_DEPTH}`);
	// As superjson: no path may lead through these (into a prototype, once rebuilt).
	return keys.some(unsafe) ? fail(`unsafe path ${path}`) : keys;
}

/** What a path leads to when superjson's writer would stop there (inside an Error, say), and writes nothing. */
const NOWHERE = Symbol('nowhere');
/** A place in the value: its container, its key there, and in a Map which side (`0` key, `1` value). */
type Place = [at: unknown, key: string, side?: string];

/** `key` as an index below `length`: written as `String(index)` writes it. */
function index(key: string, length: number): number {
	return /^(0|[1-9]\d{0,15})$/.test(key) && +key < length ? +key : fail(`no position ${key} in ${length}`);
}

/**
 * One decoding: the value (in a box, so the root is a place like any other), the work left, and the
 * positions of the Sets and Maps paths stepped into (superjson counts its way to the n-th member
 * at each step; with thousands of paths into one Map that is quadratic).
 */
class Decoding {
	readonly box: { value: unknown };
	#left: number;
	readonly #rows = new Map<Set<unknown> | Map<unknown, unknown>, unknown[]>();

	constructor(value: unknown, units: number) {
		this.box = { value };
		this.#left = MIN_WORK + WORK_PER_UNIT * units;
	}

	readonly spend: Spend = (units) => {
		if ((this.#left -= units) < 0) fail('decoding it takes too much work for its size');
	};

	/** The members (or Map keys) of `of` in order, kept up to date as `#change` moves them. */
	#rowsOf(of: Set<unknown> | Map<unknown, unknown>): unknown[] {
		let rows = this.#rows.get(of);
		if (!rows) {
			this.spend(of.size);
			this.#rows.set(of, (rows = [...of.keys()]));
		}
		return rows;
	}

	/** The member (or Map key) at position `key`. */
	#row(of: Set<unknown> | Map<unknown, unknown>, key: string): unknown {
		return this.#rowsOf(of)[index(key, of.size)];
	}

	/**
	 * Row `at` of `of` went (deleted), and `next` came last unless it was there already: what
	 * `#change` did to the Set or Map, done to its rows. Costs the rows that move up.
	 */
	#moved(of: Set<unknown> | Map<unknown, unknown>, at: number, next: unknown, was: boolean): void {
		const rows = this.#rowsOf(of);
		this.spend(rows.length - at);
		rows.splice(at, 1);
		if (!was) rows.push(next);
	}

	/**
	 * The value one step below `at`: as superjson reads (`strict` false), or as it writes (`strict`:
	 * through anything but arrays, plain objects, Sets and Maps the path leads NOWHERE). A step to a
	 * place that isn't there throws.
	 */
	#down(at: unknown, key: string, side: string | undefined, strict: boolean): unknown {
		this.spend(1);
		if (at === NOWHERE) return NOWHERE;
		if (at instanceof Set) return this.#row(at, key);
		if (at instanceof Map) {
			const row = this.#row(at, key);
			return side === '0' ? row : side === '1' ? at.get(row) : fail('a Map entry is 0 (its key) or 1 (its value)');
		}
		if (Array.isArray(at)) {
			const i = index(key, at.length);
			return i in at ? at[i] : fail(`no element ${key}`);
		}
		if (isObject(at) && strict && !isPlainObject(at)) return NOWHERE;
		// Own properties only: an Error's cause, never a prototype's method.
		if (isObject(at)) return Object.hasOwn(at, key) ? (at as any)[key] : fail(`no key ${key}`);
		return fail(`a path leads through ${at === null ? 'null' : typeof at} to ${key}`);
	}

	/** Where `keys` lead from `from`: all but the last step taken (a Map's last step is two keys). */
	#locate(from: unknown, keys: string[], strict: boolean): Place {
		let at = from;
		for (let i = 0; ;) {
			const width = at instanceof Map ? 2 : 1;
			if (i + width >= keys.length) return i + width === keys.length ? [at, keys[i]!, keys[i + 1]] : fail('a path ends inside a Map entry');
			at = this.#down(at, keys[i]!, keys[i + 1], strict);
			i += width;
		}
	}

	/** Replaces the value at `place` by `change(it)`, in superjson's order: a new Set member, or a new Map key, goes last. */
	#change([at, key, side]: Place, change: (value: any) => unknown): void {
		this.spend(1);
		if (at instanceof Set) {
			const p = index(key, at.size);
			const old = this.#rowsOf(at)[p];
			const next = change(old);
			if (old === next) return;
			at.delete(old);
			// Asked after the delete: NaN replacing NaN is a new member.
			const was = at.has(next);
			at.add(next);
			this.#moved(at, p, next, was);
		} else if (at instanceof Map) {
			const p = index(key, at.size);
			const row = this.#rowsOf(at)[p];
			if (side === '1') return void at.set(row, change(at.get(row)));
			if (side !== '0') fail('a Map entry is 0 (its key) or 1 (its value)');
			const value = at.get(row);
			const next = change(row);
			if (next === row) return void at.set(next, value);
			const was = at.has(next);
			at.set(next, value);
			at.delete(row);
			this.#moved(at, p, next, was);
		} else if (Array.isArray(at) || isPlainObject(at)) {
			// Only a place that is there: superjson would create it (an index of 2^32 - 2 makes an array
			// that a later Set walks for minutes).
			this.#down(at, key, side, true);
			(at as any)[key] = change((at as any)[key]);
		} else if (at !== NOWHERE && !isObject(at)) fail(`a path leads through ${at === null ? 'null' : typeof at} to ${key}`);
	}

	/**
	 * Converts what `tree` annotates at `place`, `depth` keys below the root: children first, each
	 * found from its parent's value (not from the root again), so the steps taken are the paths' keys.
	 */
	restore(tree: unknown, place: Place, depth: number): void {
		let kind: unknown;
		let below: unknown = tree;
		if (Array.isArray(tree)) {
			if (tree.length < 1 || tree.length > 2) fail('an annotation is [type] or [type, annotations below]');
			[kind, below] = tree;
		}
		if (below !== undefined) {
			if (!isPlainObject(below)) return fail('annotations below a value must be an object');
			const here = this.#down(...place, true);
			for (const [path, subtree] of Object.entries(below)) {
				const keys = parsePath(path, depth);
				this.restore(subtree, this.#locate(here, keys, true), depth + keys.length);
			}
		}
		if (kind !== undefined) this.#change(place, (json) => read(json, kind, this.spend));
	}

	/** Applies `referentialEqualities`; true if there were any. */
	equalize(equalities: unknown): boolean {
		if (equalities === undefined) return false;
		const [toRoot, equal, ...more] = Array.isArray(equalities) ? equalities : [[], equalities];
		if (!Array.isArray(toRoot) || (equal !== undefined && !isPlainObject(equal)) || more.length)
			return fail('referentialEqualities must be [paths, {path: paths}] or {path: paths}');
		const root = this.box.value;
		for (const path of toRoot) this.#replace(path, root);
		for (const [from, paths] of Object.entries(equal ?? {})) {
			const target = this.#down(...this.#locate(root, parsePath(from), false), false);
			if (!Array.isArray(paths)) return fail('equal paths must be an array');
			for (const path of paths) this.#replace(path, target);
		}
		return true;
	}

	/**
	 * Makes the place at `path` hold `target`. What is there must be of its type: the encoder wrote
	 * the repeat there in full (or null, where the repeat was an enclosing object: a cycle). So a
	 * string or a long bigint can't be repeated at thousands of places it wasn't sent to.
	 */
	#replace(path: unknown, target: unknown): void {
		const kind = typeOf(target);
		// null: an invalid Date or a class instance, shared, once through JSON.
		if (kind !== 'object' && kind !== 'bigint' && kind !== 'NaN' && kind !== 'null') fail('only objects, bigints and NaN are shared');
		this.#change(this.#locate(this.box.value, parsePath(path), true), (value) => {
			const was = typeOf(value);
			return was === kind || (was === 'null' && kind === 'object') ? target : fail(`a ${was} can't be made the same as a ${kind}`);
		});
	}
}

const typeOf = (value: unknown) => (value === null ? 'null' : value !== value ? 'NaN' : typeof value === 'function' ? 'object' : typeof value);

/** What a walk that unfolds the value goes on to from `value`: nothing for a leaf. */
function childrenOf(value: unknown): unknown[] | undefined {
	if (!isObject(value)) return undefined;
	if (Array.isArray(value)) return value;
	if (value instanceof Set) return [...value];
	if (value instanceof Map) return [...value].flat();
	if (value instanceof Error) return [value.name, value.message, Object.hasOwn(value, 'stack') ? value.stack : '', 'cause' in value ? value.cause : null];
	return isPlainObject(value) ? Object.values(value) : undefined;
}

/** A leaf's size in units, by what an encoder writes for it. */
function leafUnits(value: unknown): number {
	if (isString(value)) return 1 + (value.length >> 4);
	if (typeof value === 'bigint') return 1 + (value.toString(16).length >> 3);
	if (value instanceof URL) return 1 + (value.href.length >> 4);
	if (value instanceof RegExp) return 1 + (value.source.length >> 4);
	if (ArrayBuffer.isView(value)) return 1 + ((value as any).length ?? value.byteLength);
	return 1;
}

/**
 * Throws if `root` unfolds to more than `limit` units: each object's size is counted once and
 * reused wherever it is reached again, and a way back to an enclosing object (a cycle) counts one.
 * Iterative: equalities can chain objects deeper than the stack.
 */
function checkUnfolded(root: unknown, limit: number): void {
	const sizes = new Map<object, number>();
	const open = new Set<object>();
	const stack: { node: object; children: unknown[]; next: number; size: number }[] = [];
	// A value's size if it is known now; undefined if it was put on the stack to be counted.
	const reach = (value: unknown): number | undefined => {
		// Asked before its children are listed: a shared object is listed once, however often reached.
		const known = isObject(value) ? (open.has(value) ? 1 : sizes.get(value)) : undefined;
		if (known !== undefined) return known;
		const children = childrenOf(value);
		if (!children) return leafUnits(value);
		const node = value as object;
		open.add(node);
		stack.push({ node, children, next: 0, size: 1 });
		return undefined;
	};
	reach(root);
	while (stack.length) {
		const top = stack[stack.length - 1]!;
		let size: number | undefined;
		if (top.next < top.children.length) {
			size = reach(top.children[top.next++]);
			if (size === undefined) continue;
		} else {
			stack.pop();
			open.delete(top.node);
			sizes.set(top.node, top.size);
			if (!stack.length) break;
			size = top.size;
		}
		if ((stack[stack.length - 1]!.size += size) > limit) fail('its shared references unfold to far more than was sent');
	}
}

/**
 * Decodes what `encodePayload` (or `superjson.serialize`) produced. `fresh`: the payload was just
 * decoded from the wire and nothing else holds it, so it is rebuilt in place instead of copied
 * first. (The copy also undoes any sharing inside `json`, as a structured clone of an encoded
 * repeat has, so nothing is converted twice.) Throws an Error whose message starts with
 * `Bad payload: ` on anything its encoder would not have written: an unknown type, a value of the
 * wrong shape for its type, an unsafe or dangling path, or more work than its size warrants.
 */
export function decodePayload<T = unknown>(payload: EncodedPayload, fresh = false): T {
	return restorePayload(...readJson(payload, fresh)) as T;
}

/** The value `json` (as `readJson` gave it, `units` its size) and its `meta` stand for. */
export function restorePayload(json: unknown, units: number, meta: unknown): unknown {
	if (meta === undefined || meta === null) return json;
	if (!isPlainObject(meta)) return fail('meta must be an object');
	const { values, referentialEqualities } = meta as Meta;
	// Paths cost work by their keys, so meta counts by the character.
	const decoding = new Decoding(json, units + weigh(meta, false, 0)[1]);
	if (values !== undefined) decoding.restore(values, [decoding.box, 'value'], 0);
	if (decoding.equalize(referentialEqualities)) checkUnfolded(decoding.box.value, MIN_UNFOLD + UNFOLD_PER_UNIT * units);
	return decoding.box.value;
}
