/**
 * Plain calls: the message shape nearly every frame carries, read without a capnweb session.
 *
 * A fresh `RpcSession` per frame (its setup, read loop, export table and the promises they churn)
 * cost more than everything else a frame needs. Nearly every message is a call on the peer's main
 * object whose arguments are plain data:
 *
 *     ["push",["pipeline",0,["<method>"],<args>]]
 *
 * For that shape, this module does what a session does — reads and writes the values with
 * `wire-value.ts`, capnweb's encoding of data without capnweb, so the browser loads capnweb only
 * when a call needs a session — and reports anything else (stubs, promises, pipelined results,
 * streams, getters, Errors) as "not plain", so the caller leaves the message to a session. The
 * room's answers are written by capnweb's own `serialize` (`plain-result.ts`).
 * `tests/calls/plain.test.ts` checks, case by case, that both give the same bytes.
 */
import { LIMITS, readData, STUB_NAMES, writeData } from './wire-value.js';

export interface PlainCall {
	method: string;
	/** The evaluated arguments: fresh values the method may keep or change. */
	args: unknown[];
}

const HEAD = '["push",["pipeline",0,["';

/** capnweb's message asking for the first call's result: the second line of `await rpc.method(data)`. */
export const PULL_FIRST = '["pull",1]';
/** How the answer to that call starts: `<prefix><value>]`. */
export const RESOLVE_FIRST = '["resolve",1,';
export const REJECT_FIRST = '["reject",1,';

/**
 * Reads `["push",["pipeline",0,["<method>"],<args>]]` from its text, or returns `undefined` when the
 * line is anything else, or its arguments are not plain data. Nothing runs either way.
 *
 * Reading the text (not a parsed copy) keeps values JSON.parse → stringify would lose (`-0`,
 * `1e999`), and checks the whole line: `[<rest>]` evaluating to an array means `<rest>` is exactly
 * one JSON array (capnweb's escaped-array form is the only encoding that evaluates to an array), so
 * the line is exactly the shape above.
 */
export function readPlainCall(line: string): PlainCall | undefined {
	if (!line.startsWith(HEAD) || !line.endsWith(']]')) return undefined;
	const end = line.indexOf('"', HEAD.length);
	// The method is a JSON string without escapes (`\`), so its first `"` closes it.
	if (end < 0 || line.charCodeAt(end + 1) !== 93 /* ] */ || line.charCodeAt(end + 2) !== 44 /* , */) return undefined;
	const method = line.slice(HEAD.length, end);
	if (!isPlainName(method)) return undefined;
	const text = line.slice(end + 3, -2);
	try {
		// `text` alone is what `[<text>]` escapes: when it is one array, its elements are evaluated in
		// place, as the escaped array's (one level down).
		const parsed: unknown = JSON.parse(text);
		return Array.isArray(parsed) ? { method, args: plainElements(parsed, text) } : undefined;
	} catch {
		// Not data (a session's to read), or refused as a session would refuse it.
		return undefined;
	}
}

/**
 * Whether `text` (one JSON array) may hold anything `readData` changes: an array (so a special
 * value) past the outer array's own `[`, an escape (a key may be spelled with one), a string that is
 * a key capnweb drops (a string value with such a name only costs a walk), or enough length to nest
 * objects `maxDepth` deep (each level takes at least `{"":` and `}`).
 *
 * Read with `indexOf` rather than a regular expression: V8 drops compiled regular expressions when
 * it collects garbage, and recompiling a long one was a large share of a room's first call after
 * eviction. Without escapes, every `"` opens or closes a string, so the strings are the spans
 * between the 1st and 2nd quote, the 3rd and 4th, and so on.
 */
function maybeNotPlain(text: string): boolean {
	if (text.length >= SHORT_ENOUGH || text.indexOf('[', 1) >= 0 || text.indexOf('\\') >= 0) return true;
	for (let open = text.indexOf('"'); open >= 0;) {
		const close = text.indexOf('"', open + 1);
		if (close < 0) return true;
		if (isDroppedKey(text, open + 1, close - open - 1)) return true;
		open = text.indexOf('"', close + 1);
	}
	return false;
}

/** The keys capnweb drops when it reads an object (`Object.prototype`'s names, and `toJSON`), by length. */
const DROPPED_KEYS_BY_LENGTH: ReadonlyArray<readonly string[] | undefined> = (() => {
	const byLength: string[][] = [];
	for (const key of [...Object.getOwnPropertyNames(Object.prototype), 'toJSON']) (byLength[key.length] ??= []).push(key);
	return byLength;
})();

/**
 * Whether the `length` characters of `text` from `start` spell a dropped key. Compared in place: a
 * line's strings are nearly all of lengths no dropped key has, and cutting each out to look it up
 * was most of this check's cost.
 */
function isDroppedKey(text: string, start: number, length: number): boolean {
	const keys = DROPPED_KEYS_BY_LENGTH[length];
	if (keys === undefined) return false;
	for (const key of keys) if (text.startsWith(key, start)) return true;
	return false;
}
const SHORT_ENOUGH = 4 * LIMITS.maxDepth;

/** The elements of an escaped array's inner array `inner` (parsed from `text`), evaluated. */
function plainElements(inner: unknown[], text: string): unknown[] {
	if (!maybeNotPlain(text)) return inner;
	for (let i = 0; i < inner.length; i++) inner[i] = readData(inner[i], 1);
	return inner;
}

/**
 * capnweb's `deserialize` of `text`, for data (`wire-value.ts`); throws for what it refuses and for
 * what only a session reads.
 */
export function evaluate(text: string): unknown {
	return readData(JSON.parse(text), 0);
}

/** Whether `name` holds only characters a JSON string may hold unescaped, less `"` and `\`. */
function isPlainName(name: string): boolean {
	for (let i = 0; i < name.length; i++) {
		const c = name.charCodeAt(i);
		if (c < 0x20 || c === 0x22 /* " */ || c === 0x5c /* \ */) return false;
	}
	return true;
}

/**
 * The function a session would call for `main.<method>(…)`, when finding it runs no code: `method`
 * is a plain method on `main`'s prototype chain (capnweb refuses instance fields and
 * `Object.prototype` names; a getter would run, so it is left to the session). `main` must be what
 * a session serves as it is: an RpcTarget (the caller checks), or the client's own listener.
 */
export function plainMethod(main: object, method: string): ((...args: unknown[]) => unknown) | undefined {
	if (Object.hasOwn(main, method)) return undefined;
	// The walk's answer is the prototype chain's, remembered per prototype: classes are not changed
	// once defined, and every event on a client asks its listener the same question.
	const proto: object = Object.getPrototypeOf(main);
	let known = METHODS.get(proto);
	if (!known) METHODS.set(proto, (known = new Map()));
	let found = known.get(method);
	if (found === undefined) known.set(method, (found = (!(method in Object.prototype) && methodOnChain(proto, method)) || null));
	return found ?? undefined;
}

const METHODS = new WeakMap<object, Map<string, ((...args: unknown[]) => unknown) | null>>();

function methodOnChain(start: object, method: string): ((...args: unknown[]) => unknown) | undefined {
	for (let proto: object | null = start; proto; proto = Object.getPrototypeOf(proto)) {
		const found = Object.getOwnPropertyDescriptor(proto, method);
		if (found) return typeof found.value === 'function' ? (found.value as (...args: unknown[]) => unknown) : undefined;
	}
	return undefined;
}

/**
 * The line a session sends for a one-way call `main.<method>(…args)`, or `undefined` when only a
 * session can write it: arguments that are not data (stubs, targets, functions, streams, Errors:
 * a session writes an Error's fields even when `serialize` would leave them out), or a name the
 * stub answers itself instead of calling (`then`, `map`, `toString`, …).
 */
export function plainPush(method: string, args: readonly unknown[]): string | undefined {
	if (STUB_NAMES.has(method)) return undefined;
	const json = writeData(args);
	if (json === undefined) return undefined;
	// An array is written `[[…]]`; a call carries the inner array.
	return `["push",["pipeline",0,[${JSON.stringify(method)}],${json.slice(1, -1)}]]`;
}

/**
 * {@link plainPush} for a call the client records (`recorded-batch.ts`): only for a method name
 * {@link readPlainCall} reads back, so the call can be replayed from its line.
 */
export function plainCall(method: string, args: readonly unknown[]): string | undefined {
	return isPlainName(method) ? plainPush(method, args) : undefined;
}
