/**
 * Event payloads on the client: encoded at once (`rpc/payload-encode.ts`), decoded at once when
 * plain JSON (no `meta`: nothing but strings, finite numbers, booleans, null, arrays and plain
 * objects, nothing shared), and otherwise by the whole decoder (`rpc/payload.ts`), which the browser
 * loads on demand: a dynamic `import()` that an app's build makes a chunk of its own, fetched once
 * connected ({@link payloadChunk.prefetch}) or by the first payload that needs it.
 *
 * A payload that needs it before it is there waits for it without reordering anything: the
 * connection (and the tab's side of the SharedWorker) holds the frames after it until it is
 * delivered, and `send()`'s answer resolves once decoded. If the chunk cannot be loaded, that
 * event becomes an `error` event (code `payload_unavailable`) and the send rejects with that
 * `RoomError`; the next payload that needs it tries again.
 */
import { RoomError } from '../rpc/errors.js';
import { lazyChunk } from '../calls/lazy-chunk.js';
import { readJson, type EncodedPayload } from '../rpc/payload-json.js';
import type * as Decoder from '../rpc/payload.js';

export { encodePayload } from '../rpc/payload-encode.js';

type Codec = typeof Decoder;

/**
 * The whole decoder (`rpc/payload.ts`): prefetched once connected, loaded by the first payload
 * that needs it; a load that fails rejects with a `RoomError` (`payload_unavailable`), and the next
 * payload tries again.
 */
export const payloadChunk = lazyChunk(
	(): Promise<Codec> => import('../rpc/payload.js'),
	'payload_unavailable',
	'This payload holds values JSON cannot (a Date, Map, undefined…), and the code that decodes them could not be loaded',
);

/** Whether `payload` is an encoded payload with `meta`: values JSON cannot hold, which the decoder restores. */
const hasMeta = (payload: EncodedPayload): boolean => typeof payload === 'object' && payload !== null && payload.meta !== undefined && payload.meta !== null;

/** Whether decoding `payload` needs the decoder chunk: it has `meta` (and it is not loaded yet). */
export function needsDecoder(payload: EncodedPayload): boolean {
	return payloadChunk.now() === undefined && hasMeta(payload);
}

/**
 * Decodes `payload` now (see `decodePayload`; `fresh`: rebuilt in place). A payload with `meta`
 * needs the decoder loaded ({@link payloadChunk.load}); without it this throws: why it could not be
 * loaded, or that it was not asked for.
 */
export function decodeNow<T = unknown>(payload: EncodedPayload, fresh = false): T {
	// Plain JSON fresh from the room's frame is the value itself, used as it came: the room bounded
	// and checked what a browser sent before passing it on (`decodePayload`), and wrote the rest
	// itself, so walking it again here would only cost every delivery a second pass.
	if (fresh && typeof payload === 'object' && payload !== null && !hasMeta(payload)) return payload.json as T;
	const [json, units, meta] = readJson(payload, fresh);
	if (meta === undefined || meta === null) return json as T;
	const codec = payloadChunk.now();
	if (codec) return codec.restorePayload(json, units, meta) as T;
	throw payloadChunk.failure() ?? new RoomError('payload_unavailable', 'This payload needs the payload decoder, which is not loaded', 0);
}
