/**
 * The payload encoder: values into superjson 2.2.6's wire format (see `rpc/payload.ts`). A module of
 * its own so the browser's first load has it without the decoder, which it loads on demand.
 */
import { fail, isPlainObject, unsafe, type EncodedPayload, type Equal, type Kind, type Meta, type Tree, type Trees } from './payload-json.js';

/**
 * superjson's conversions, in its order: `[json, kind]`, plus `1` for the kinds whose `json` is
 * walked further (Error, Set, Map); nothing for a value kept as it is.
 */
function convert(value: any): [unknown, Kind, 1?] | undefined {
	if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return [[...(value as any)], ['typed-array', value.constructor.name]];
	if (value === undefined) return [null, 'undefined'];
	if (typeof value === 'bigint') return [String(value), 'bigint'];
	// An invalid date stays a Date (superjson leaves it alone; JSON makes it null).
	if (value instanceof Date && +value === +value) return [value.toISOString(), 'Date'];
	if (value instanceof Error) return [{ name: value.name, message: value.message, ...('cause' in value && { cause: value.cause }) }, 'Error', 1];
	if (value instanceof RegExp) return [String(value), 'regexp'];
	if (value instanceof Set || value instanceof Map) return [[...value], value instanceof Set ? 'set' : 'map', 1];
	// NaN, ±Infinity and -0 (which JSON would turn into null, null and 0).
	if (typeof value === 'number' && (!isFinite(value) || 1 / value === -Infinity)) return [value === 0 ? '-0' : String(value), 'number'];
	if (value instanceof URL) return [String(value), 'URL'];
	return undefined;
}

/** `[kind, below]`, `[kind]`, `below` or nothing: the shape of both annotation trees. */
function node<K, B extends object>(kind: K | undefined, below: B): [K, B] | [K] | B | undefined {
	const some = Object.keys(below).length > 0;
	return kind ? (some ? [kind, below] : [kind]) : some ? below : undefined;
}

const escapeKey = (key: string) => key.replace(/[\\.]/g, '\\$&');

const joinPath = (path: string[]) => path.map(escapeKey).join('.');

/** What a value became: its `json`, and its annotation tree if anything in it was converted. */
type Walked = [json: unknown, tree?: Tree];

/** Encodes `data` exactly as `superjson.serialize` does. Throws on a `__proto__`, `constructor` or `prototype` key. */
export function encodePayload(data: unknown): EncodedPayload {
	// Every path each object (or bigint, or NaN: superjson counts those too) was found at.
	const paths = new Map<unknown, string[][]>();
	const done = new Map<unknown, Walked>();
	const walk = (value: any, path: string[], ancestors: unknown[]): Walked => {
		const tracked = Object(value) === value || typeof value === 'bigint' || value !== value;
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
				if (unsafe(key)) fail(`key ${key}`);
				const [childJson, tree] = walk(child, [...path, key], [...ancestors, value]);
				json[key] = childJson;
				if (Array.isArray(tree)) below[escapeKey(key)] = tree;
				else for (const sub in tree) below[`${escapeKey(key)}.${sub}`] = tree[sub]!;
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
