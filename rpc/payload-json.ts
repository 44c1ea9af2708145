/**
 * What every event payload needs, annotated or not (`rpc/payload.ts` has the whole codec): the wire
 * shape, the limits on what is read, and `readJson`, which checks a payload's `json` and copies it.
 * A payload without `meta` (plain JSON: no Date, Map, undefined…, nothing shared) is decoded by
 * this alone, which is what lets the browser load the rest of the codec only when a payload needs
 * it (`client/payload-codec.ts`).
 */

/** An event payload as it crosses the wire. */
export interface EncodedPayload {
	json: unknown;
	meta?: unknown;
}

/** How a value was converted: a name, or `['typed-array', constructor name]`. */
export type Kind = string | [string, string];
/** Annotations below a node, by path relative to it. */
export type Trees = { [path: string]: Tree };
/** A converted node (its kind, then what is converted below it), or only what is below it. */
export type Tree = [Kind, Trees?] | Trees;
/** Paths that point back to the root (cycles), then other paths by the path they equal. */
export type Equalities = [string[], Equal?] | Equal;
export type Equal = { [path: string]: string[] };
export interface Meta {
	values?: Tree;
	referentialEqualities?: Equalities;
	v?: number;
}

// `any` stays inside the codec's modules: values are walked by shape, and the public signatures are typed.

// Limits on decoding. None of them refuses what capnweb (0.12, default limits) can carry.

/** Deepest `json` and longest path: capnweb's `maxDepth`; no message it accepts nests deeper. */
export const MAX_DEPTH = 256;
/**
 * Most values in `json`: more than capnweb's largest message (32 MiB) holds. It matters for a payload
 * copied from memory (a tab's, through postMessage), where a shared part or a sparse array is small
 * to send and large to copy.
 */
export const MAX_VALUES = 2 ** 25;

/** Throws the error every refusal is: messages are clipped, since their details come from the wire. */
export function fail(why: string): never {
	throw new Error(`Bad payload: ${why.length > 160 ? `${why.slice(0, 160)}…` : why}`);
}

export function isString(json: unknown): json is string {
	return typeof json === 'string';
}

export function isObject(value: unknown): value is object {
	return typeof value === 'object' && value !== null;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
	if (!value || typeof value !== 'object') return false;
	const proto = Object.getPrototypeOf(value);
	return proto === null ? value !== Object.prototype : proto === Object.prototype;
}

export const unsafe = (key: string) => key === '__proto__' || key === 'constructor' || key === 'prototype';

/**
 * Walks what came off the wire: counts its units (a value; a string also one per `1 << shift`
 * characters) and, with `clone`, copies its JSON-shaped parts (arrays and plain objects, holes
 * kept). Throws past MAX_DEPTH or MAX_VALUES, and on an unsafe key (no encoder writes one, and
 * `Object.assign` of one would set a prototype).
 */
export function weigh(json: unknown, clone: boolean, shift: number): [json: unknown, units: number] {
	let units = 0;
	const walk = (at: unknown, depth: number): unknown => {
		if (++units > MAX_VALUES) fail(`more than ${MAX_VALUES} values`);
		if (isString(at)) units += at.length >> shift;
		if (!isObject(at)) return at;
		if (depth >= MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH}`);
		if (Array.isArray(at)) {
			// Counted before it is walked: a sparse array (in memory) is short to send, long to walk.
			if (units + at.length > MAX_VALUES) fail(`more than ${MAX_VALUES} values`);
			if (!clone) {
				for (const item of at) walk(item, depth + 1);
				return at;
			}
			return at.map((item) => walk(item, depth + 1));
		}
		if (!isPlainObject(at)) return at;
		const out: Record<string, unknown> = clone ? {} : at;
		for (const key in at) {
			if (unsafe(key)) fail(`unsafe key ${key}`);
			units += key.length >> shift;
			const value = walk(at[key as keyof typeof at], depth + 1);
			if (clone) out[key] = value;
		}
		return out;
	};
	return [walk(json, 0), units];
}

/**
 * A payload's `json`, checked and, unless `fresh` (just decoded from the wire, held by nothing else),
 * copied; with its size in units and its `meta` as it came. Throws as `decodePayload` does.
 */
export function readJson(payload: EncodedPayload, fresh: boolean): [json: unknown, units: number, meta: unknown] {
	if (!isObject(payload)) return fail('not an object');
	const [json, units] = weigh(payload.json, !fresh, 4);
	return [json, units, payload.meta];
}
