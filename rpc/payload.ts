/**
 * Event payloads travel superjson-encoded, so Date, Map, Set, BigInt, undefined and friends arrive
 * intact. The encoded form is a plain object (`{json, meta?}`), not a string: capnweb carries it as
 * a structured value, so there is no JSON-inside-JSON escaping on the wire.
 *
 * Room RPC arguments and results are *not* wrapped: capnweb encodes those itself (Date, BigInt,
 * Uint8Array, Error, stubs), which keeps promise pipelining intact.
 */
import superjson from 'superjson';

/** An event payload as it crosses the wire. */
export interface EncodedPayload {
	json: unknown;
	meta?: unknown;
}

export function encodePayload(data: unknown): EncodedPayload {
	return superjson.serialize(data) as EncodedPayload;
}

/**
 * `fresh`: the payload was just decoded from the wire and nothing else holds it, so superjson may
 * rebuild the value in place instead of deep-copying it first.
 */
export function decodePayload<T = unknown>(payload: EncodedPayload, fresh = false): T {
	return superjson.deserialize(payload as Parameters<typeof superjson.deserialize>[0], { inPlace: fresh }) as T;
}
