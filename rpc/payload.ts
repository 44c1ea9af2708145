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
 */

/** An event payload as it crosses the wire. */
export interface EncodedPayload {
	json: unknown;
	meta?: unknown;
}

/** How a value was converted: a name, or `['typed-array', constructor name]`. */
type Kind = string | [string, string];
/** Annotations below a node, by path relative to it. */
type Trees = { [path: string]: Tree };
/** A converted node (its kind, then what is converted below it), or only what is below it. */
type Tree = [Kind, Trees?] | Trees;
/** Paths that point back to the root (cycles), then other paths by the path they equal. */
type Equalities = [string[], Equal?] | Equal;
type Equal = { [path: string]: string[] };
interface Meta {
	values?: Tree;
	referentialEqualities?: Equalities;
	v?: number;
}

// `any` stays inside this module: values are walked by shape, and the public signatures are typed.
/* eslint-disable @typescript-eslint/no-explicit-any */

const fail = (why: string): never => {
	throw new Error('Bad payload: ' + why);
};

const readers: Record<string, (json: any) => unknown> = {
	// Null prototype: a kind from the wire must not reach `Object.prototype`'s members.
	__proto__: null as never,
	undefined: () => undefined,
	bigint: BigInt,
	Date: (iso) => new Date(iso),
	Error: (json) => {
		const error = new Error(json.message, { cause: json.cause });
		error.name = json.name;
		// superjson sends no stack and sets the (missing) one it received.
		error.stack = json.stack;
		return error;
	},
	regexp: (source: string) => {
		const slash = source.lastIndexOf('/');
		return new RegExp(source.slice(1, slash), source.slice(slash + 1));
	},
	set: (values) => new Set(values),
	map: (entries) => new Map(entries),
	number: Number,
	URL: (href) => new URL(href),
};

function read(json: unknown, kind: Kind): unknown {
	if (!Array.isArray(kind)) return (readers[kind] ?? fail(kind))(json);
	// A typed array by its constructor's name: only typed array constructors have BYTES_PER_ELEMENT.
	const make = kind[0] == 'typed-array' && (globalThis as any)[kind[1]];
	return make?.BYTES_PER_ELEMENT ? new make(json) : fail(kind[1]);
}

/**
 * superjson's conversions, in its order: `[json, kind]`, plus `1` for the kinds whose `json` is
 * walked further (Error, Set, Map); nothing for a value kept as it is.
 */
function convert(value: any): [unknown, Kind, 1?] | undefined {
	if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return [[...(value as any)], ['typed-array', value.constructor.name]];
	if (value === undefined) return [null, 'undefined'];
	if (typeof value == 'bigint') return ['' + value, 'bigint'];
	// An invalid date stays a Date (superjson leaves it alone; JSON makes it null).
	if (value instanceof Date && +value === +value) return [value.toISOString(), 'Date'];
	if (value instanceof Error) return [{ name: value.name, message: value.message, ...('cause' in value && { cause: value.cause }) }, 'Error', 1];
	if (value instanceof RegExp) return ['' + value, 'regexp'];
	if (value instanceof Set || value instanceof Map) return [[...value], value instanceof Set ? 'set' : 'map', 1];
	// NaN, ±Infinity and -0 (which JSON would turn into null, null and 0).
	if (typeof value == 'number' && (!isFinite(value) || 1 / value == -Infinity)) return [value == 0 ? '-0' : '' + value, 'number'];
	if (value instanceof URL) return ['' + value, 'URL'];
	return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
	if (!value || typeof value != 'object') return false;
	const proto = Object.getPrototypeOf(value);
	return proto === null ? value !== Object.prototype : proto === Object.prototype;
}

/** `[kind, below]`, `[kind]`, `below` or nothing: the shape of both annotation trees. */
function node<K, B extends object>(kind: K | undefined, below: B): [K, B] | [K] | B | undefined {
	const some = Object.keys(below).length > 0;
	return kind ? (some ? [kind, below] : [kind]) : some ? below : undefined;
}

const escapeKey = (key: string) => key.replace(/[\\.]/g, '\\$&');
const joinPath = (path: string[]) => path.map(escapeKey).join('.');

const unsafe = (key: string) => key == '__proto__' || key == 'constructor' || key == 'prototype';

/** A path's keys; throws on a bad escape or an unsafe key. */
function parsePath(path: string): string[] {
	const keys: string[] = [];
	let key = '';
	for (let i = 0; i < path.length; i++) {
		let char = path.charAt(i);
		if (char == '.') {
			keys.push(key);
			key = '';
			continue;
		}
		// Only `\\` and `\.` are escapes (a lone `\` at the end reads as '', and fails).
		if (char == '\\' && (char = path.charAt(++i)) != '\\' && char != '.') fail('path');
		key += char;
	}
	keys.push(key);
	// As superjson: no path may lead through these (into a prototype, once rebuilt).
	return keys.some(unsafe) ? fail('path') : keys;
}

/** What a value became: its `json`, and its annotation tree if anything in it was converted. */
type Walked = [json: unknown, tree?: Tree];

/** Encodes `data` exactly as `superjson.serialize` does. Throws on a `__proto__`, `constructor` or `prototype` key. */
export function encodePayload(data: unknown): EncodedPayload {
	// Every path each object (or bigint, or NaN: superjson counts those too) was found at.
	const paths = new Map<unknown, string[][]>();
	const done = new Map<unknown, Walked>();
	const walk = (value: any, path: string[], ancestors: unknown[]): Walked => {
		const tracked = Object(value) === value || typeof value == 'bigint' || value !== value;
		if (tracked) {
			paths.get(value)?.push(path) ?? paths.set(value, [path]);
			// A repeat is encoded again in full: the equality annotations make it one object again.
			const seen = done.get(value);
			if (seen) return seen;
		}
		const converted = convert(value);
		let walked: Walked = converted ? [converted[0], [converted[1]]] : [value];
		if (converted?.[2] || isPlainObject(value) || Array.isArray(value)) {
			// A cycle: null here, restored from the equality annotations.
			if (ancestors.includes(value)) return [null];
			const source = walked[0] as object;
			const json: any = Array.isArray(source) ? [] : {};
			const below: Trees = {};
			for (const [key, child] of Object.entries(source)) {
				if (unsafe(key)) fail('key ' + key);
				const [childJson, tree] = walk(child, [...path, key], [...ancestors, value]);
				json[key] = childJson;
				if (Array.isArray(tree)) below[escapeKey(key)] = tree;
				else for (const sub in tree) below[escapeKey(key) + '.' + sub] = tree[sub]!;
			}
			walked = [json, node(converted?.[1], below)];
		}
		if (tracked) done.set(value, walked);
		return walked;
	};
	const [json, tree] = walk(data, [], []);

	let toRoot: string[] | undefined;
	const equal: Equal = {};
	for (const found of paths.values()) {
		if (found.length < 2) continue;
		// The shortest path is the one the others are made equal to.
		const [first, ...others] = found.sort((a, b) => a.length - b.length);
		if (first!.length) equal[joinPath(first!)] = others.map(joinPath);
		else toRoot = others.map(joinPath);
	}
	const meta: Meta = {};
	if (tree) meta.values = tree;
	const equalities = node(toRoot, equal);
	if (equalities) meta.referentialEqualities = equalities;
	return tree || equalities ? { json, meta: { ...meta, v: 1 } } : { json };
}

/**
 * The value at `path`. A Set is stepped into as the array of its members, a Map as the array of its
 * `[key, value]` entries. `strict`: as superjson does when writing, a path through anything but
 * arrays, plain objects, Sets and Maps (an Error's cause, say) leads nowhere.
 */
function dig(root: unknown, path: string[], strict?: boolean): any {
	return path.reduce<any>((at, key) => (at instanceof Set || at instanceof Map ? [...at][+key] : !strict || Array.isArray(at) || isPlainObject(at) ? at[key] : undefined), root);
}

/** Replaces the value at `path` by `change(it)` in place; returns the (possibly new) root. */
function replace(root: unknown, path: string[], change: (value: any) => unknown): any {
	const at = path.length - 1;
	if (at < 0) return change(root);
	const map = at && dig(root, path.slice(0, -2), true);
	const parent = dig(root, path.slice(0, -1), true);
	const last = path[at]!;
	// In superjson's order: a new Set member, or a new Map key, goes last.
	if (map instanceof Map) {
		const [key, value] = parent;
		if (+last === 0) {
			const next = change(key);
			map.set(next, value);
			if (next !== key) map.delete(key);
		} else map.set(key, change(value));
	} else if (parent instanceof Set) {
		const old = [...parent][+last];
		const next = change(old);
		if (old !== next) parent.delete(old), parent.add(next);
	} else if (Array.isArray(parent) || isPlainObject(parent)) (parent as any)[last] = change((parent as any)[last]);
	return root;
}

/** A deep copy of the JSON-shaped parts (arrays and plain objects), holes kept. */
function copy(json: unknown): unknown {
	if (Array.isArray(json)) return json.map(copy);
	if (!isPlainObject(json)) return json;
	const out: Record<string, unknown> = {};
	for (const key in json) out[key] = copy(json[key]);
	return out;
}

/**
 * Decodes what `encodePayload` (or `superjson.serialize`) produced. `fresh`: the payload was just
 * decoded from the wire and nothing else holds it, so it is rebuilt in place instead of copied
 * first. (The copy also undoes any sharing inside `json`, as a structured clone of an encoded
 * repeat has, so nothing is converted twice.) Throws on an unknown type or an unsafe path.
 */
export function decodePayload<T = unknown>(payload: EncodedPayload, fresh = false): T {
	const meta = (payload.meta ?? {}) as Meta;
	let value = fresh ? payload.json : copy(payload.json);
	// Children first: a Map's entries are restored before the Map is made from them.
	const restore = (tree: Tree | undefined, path: string[]) => {
		const [kind, below] = Array.isArray(tree) ? tree : [undefined, tree];
		if (below && typeof below == 'object') for (const [key, tree] of Object.entries(below)) restore(tree, [...path, ...parsePath(key)]);
		if (kind) value = replace(value, path, (json) => read(json, kind));
	};
	restore(meta.values, []);
	const equalities = meta.referentialEqualities;
	const [toRoot, equal] = Array.isArray(equalities) ? equalities : [[], equalities];
	for (const path of toRoot) replace(value, parsePath(path), () => value);
	for (const [from, paths] of Object.entries(equal ?? {})) {
		const target = dig(value, parsePath(from));
		for (const path of paths) value = replace(value, parsePath(path), () => target);
	}
	return value as T;
}
