/**
 * Plain calls: the message shape nearly every frame carries, read without a capnweb session.
 *
 * A fresh `RpcSession` per frame (its setup, read loop, export table and the promises they churn)
 * cost more than everything else a frame needs. Nearly every message is a call on the peer's main
 * object whose arguments are plain data:
 *
 *     ["push",["pipeline",0,["<method>"],<args>]]
 *
 * For that shape, this module does what a session does — capnweb's own `deserialize` evaluates the
 * arguments, capnweb's own `serialize` encodes a result — and reports anything else (stubs,
 * promises, pipelined results, streams, getters, Errors needing `onSendError`) as "not plain", so
 * the caller leaves the message to a session. `tests/rpc/plain.test.ts` checks, case by case, that
 * both give the same bytes.
 */
import { DEFAULT_LIMITS, deserialize, RpcPromise, RpcTarget, serialize } from 'capnweb';

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
	if (!PLAIN_NAME.test(method)) return undefined;
	const text = line.slice(end + 3, -2);
	let args: unknown;
	try {
		// `text` alone is what `[<text>]` escapes: when it is one array of plain data, its elements
		// are evaluated in place (as the escaped array's, one level down) without building
		// `[<text>]`; otherwise the escaped form goes to capnweb's `deserialize`, which decides (the
		// walk `evaluate` would do first is the one that just failed).
		const parsed: unknown = JSON.parse(text);
		if (!Array.isArray(parsed)) return undefined;
		args = plainElements(parsed, text);
	} catch (error) {
		if (error !== NOT_PLAIN) return undefined;
		try {
			args = deserialize(`[${text}]`);
		} catch {
			return undefined;
		}
	}
	return Array.isArray(args) ? { method, args } : undefined;
}

/**
 * Text that cannot hold anything `plainData` refuses: no array (so no special value), no key capnweb
 * drops, no escape (a key may be spelled with one), and too short to nest objects `maxDepth` deep
 * (each level takes at least `{"":` and `}`). A match may also be a string value (`"toString"`):
 * that only costs a walk. Global, to start past the array's own `[` (`lastIndex`).
 */
const MAYBE_NOT_PLAIN = new RegExp(`\\[|\\\\|"(?:${[...Object.getOwnPropertyNames(Object.prototype), 'toJSON'].join('|')})"`, 'g');
const SHORT_ENOUGH = 4 * DEFAULT_LIMITS.maxDepth;

/** The elements of an escaped array's inner array `inner` (parsed from `text`), checked as `plainData`. */
function plainElements(inner: unknown[], text: string): unknown[] {
	if (text.length < SHORT_ENOUGH) {
		// The first `[` is the array's own; any other may be a special value.
		MAYBE_NOT_PLAIN.lastIndex = 1;
		if (!MAYBE_NOT_PLAIN.test(text)) return inner;
	}
	for (let i = 0; i < inner.length; i++) inner[i] = plainData(inner[i], 1);
	return inner;
}

/**
 * capnweb's `deserialize`, faster for the values nearly every message holds: JSON data without
 * special values. Those are evaluated here exactly as capnweb's Evaluator evaluates them (escaped
 * arrays unwrapped, the same depth limit); anything else (a tagged value such as a date, a key
 * capnweb strips, a stub) is handed to `deserialize` itself, which refuses stubs, promises,
 * pipelines and streams without a session: only data passes. capnweb's Evaluator is general and
 * was most of a client's cost per event.
 */
export function evaluate(text: string): unknown {
	try {
		return plainData(JSON.parse(text), 0);
	} catch (error) {
		if (error !== NOT_PLAIN) throw error;
		return deserialize(text);
	}
}

const NOT_PLAIN = Symbol('not plain data');

function plainData(value: unknown, depth: number): unknown {
	if (depth >= DEFAULT_LIMITS.maxDepth) throw NOT_PLAIN;
	if (typeof value !== 'object' || value === null) return value;
	if (Array.isArray(value)) {
		// capnweb escapes every array as `[[…]]`; any other array is a tagged special value.
		const inner: unknown = value[0];
		if (value.length !== 1 || !Array.isArray(inner)) throw NOT_PLAIN;
		for (let i = 0; i < inner.length; i++) inner[i] = plainData(inner[i], depth + 1);
		return inner;
	}
	const object = value as Record<string, unknown>;
	for (const key in object) {
		// capnweb drops these keys; leave that to it.
		if (key in Object.prototype || key === 'toJSON') throw NOT_PLAIN;
		object[key] = plainData(object[key], depth + 1);
	}
	return object;
}

/** Characters a JSON string may hold unescaped, minus `"` and `\`. */
const PLAIN_NAME = /^[^"\\\u0000-\u001f]*$/;

/**
 * The function a session would call for `main.<method>(…)`, when finding it runs no code: `main` is
 * an RpcTarget and `method` a plain method on its prototype chain (capnweb refuses instance fields
 * and `Object.prototype` names; a getter would run, so it is left to the session).
 */
export function plainMethod(main: object, method: string): ((...args: unknown[]) => unknown) | undefined {
	if (!(main instanceof RpcTarget) || method in Object.prototype || Object.hasOwn(main, method)) return undefined;
	// The walk's answer is the prototype chain's, remembered per prototype: classes are not changed
	// once defined, and every event on a client asks its listener the same question.
	const proto: object = Object.getPrototypeOf(main);
	let known = METHODS.get(proto);
	if (!known) METHODS.set(proto, (known = new Map()));
	let found = known.get(method);
	if (found === undefined) known.set(method, (found = methodOnChain(proto, method) ?? null));
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
 * session can write it: arguments `serialize` refuses (stubs, targets, functions, streams), or a
 * name the stub answers itself instead of calling (`then`, `map`, `toString`, …). A session that
 * has no `onSendError` encodes Errors as `serialize` does.
 */
export function plainPush(method: string, args: readonly unknown[]): string | undefined {
	if (method in RpcPromise.prototype) return undefined;
	let json: string;
	try {
		json = serialize(args);
	} catch {
		return undefined;
	}
	// An Error's fields are written by a session even when they are stubs or functions, which
	// `serialize` silently leaves out: arguments holding an Error are a session's to write.
	if (json.includes('["error",')) return undefined;
	// An array is written `[[…]]`; a call carries the inner array.
	return `["push",["pipeline",0,[${JSON.stringify(method)}],${json.slice(1, -1)}]]`;
}

/**
 * {@link plainPush} for a call the client records (`recorded-batch.ts`): only for a method name
 * {@link readPlainCall} reads back, so the call can be replayed from its line.
 */
export function plainCall(method: string, args: readonly unknown[]): string | undefined {
	return PLAIN_NAME.test(method) ? plainPush(method, args) : undefined;
}

/**
 * capnweb's encoding of a result or thrown value, when a session would encode it byte for byte the
 * same; `undefined` when only a session can (stubs, targets, functions, streams need its export
 * table; an Error anywhere inside goes through its `onSendError`).
 *
 * Every encoded Error starts with `["error",`, and that text cannot occur inside a JSON string (its
 * quotes would be escaped), so the check has no false negatives; its false positives (a plain array
 * starting with "error") only cost a session.
 */
export function plainValue(value: unknown): string | undefined {
	let json: string;
	try {
		json = serialize(value);
	} catch {
		return undefined;
	}
	return json.includes('["error",') ? undefined : json;
}

/**
 * capnweb's encoding of a thrown Error after `onSendError` (`wire` is what it returned, or the
 * error itself), when a session would encode it the same; `undefined` otherwise. A session sends a
 * rewritten error's stack and rewrites errors nested in its properties, and `serialize` does neither,
 * so only an error without a stack whose properties are primitives qualifies (a `RoomError`
 * from `toWireError`).
 */
export function plainError(wire: Error, rewritten: boolean): string | undefined {
	if ((rewritten && wire.stack) || wire instanceof RpcTarget || wire instanceof AggregateError || 'cause' in wire) return undefined;
	for (const key of Object.keys(wire)) {
		const value = (wire as unknown as Record<string, unknown>)[key];
		if (typeof value === 'object' ? value !== null : typeof value === 'function') return undefined;
	}
	try {
		return serialize(wire);
	} catch {
		return undefined;
	}
}
