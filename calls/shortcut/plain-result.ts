/**
 * The room's answer to a plain call (`batch.ts`), written by capnweb's own `serialize`: what a
 * session would send for a result or a thrown Error, when it needs no session to write it (data
 * goes through `wire-value.ts`, which writes it as `serialize` does). Room only; the browser never
 * loads this (its plain path is `plain.ts` and `wire-value.ts`).
 */
import { RpcTarget, serialize } from 'capnweb';
import { writeData } from './wire-value.js';

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
	// Data is written without capnweb, byte for byte as `serialize` writes it (`wire-value.ts`): the
	// common answer costs no capnweb code, which a room woken from hibernation runs cold.
	const data = writeData(value);
	if (data !== undefined) return data;
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
