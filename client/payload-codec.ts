/**
 * Event payloads on the client: encoded at once (`rpc/payload-encode.ts`), decoded at once when
 * plain JSON (no `meta`: nothing but strings, finite numbers, booleans, null, arrays and plain
 * objects, nothing shared), and otherwise by the whole decoder (`rpc/payload.ts`), which the browser
 * loads on demand: a dynamic `import()` that an app's build makes a chunk of its own, fetched once
 * connected ({@link prefetchPayloadCodec}) or by the first payload that needs it.
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

const chunk = lazyChunk(
	(): Promise<Codec> => import('../rpc/payload.js'),
	'payload_unavailable',
	'This payload holds values JSON cannot (a Date, Map, undefined…), and the code that decodes them could not be loaded',
);

/** Where the chunk comes from (tests replace its `load`). */
export const payloadChunk = chunk.source;

/**
 * Loads the decoder if needed. Rejects with a `RoomError` (`payload_unavailable`) when the chunk
 * cannot be loaded (offline, a deploy removed it); the next call tries again.
 */
export const loadPayloadCodec = chunk.load;

/** Starts loading the decoder in the background, so a later payload needing it need not wait. */
export const prefetchPayloadCodec = chunk.prefetch;

/** Forgets the loaded decoder (tests: the next payload needing it loads it again through `payloadChunk.load`). */
export const forgetPayloadCodec = chunk.forget;

const isPlain = (payload: EncodedPayload): payload is EncodedPayload & object =>
	typeof payload === 'object' && payload !== null && (payload.meta === undefined || payload.meta === null);

/** Whether decoding `payload` needs the decoder chunk: it has `meta` (and it is not loaded yet). */
export function needsDecoder(payload: EncodedPayload): boolean {
	return chunk.now() === undefined && typeof payload === 'object' && payload !== null && payload.meta !== undefined && payload.meta !== null;
}

/**
 * Decodes `payload` now (see `decodePayload`; `fresh`: rebuilt in place). A payload with `meta`
 * needs the decoder loaded ({@link loadPayloadCodec}); without it this throws: why it could not be
 * loaded, or that it was not asked for.
 */
export function decodeNow<T = unknown>(payload: EncodedPayload, fresh = false): T {
	// Plain JSON fresh from the room's frame is the value itself, used as it came: the room bounded
	// and checked what a browser sent before passing it on (`decodePayload`), and wrote the rest
	// itself, so walking it again here would only cost every delivery a second pass.
	if (fresh && isPlain(payload)) return payload.json as T;
	const [json, units, meta] = readJson(payload, fresh);
	if (meta === undefined || meta === null) return json as T;
	const codec = chunk.now();
	if (codec) return codec.restorePayload(json, units, meta) as T;
	throw chunk.failure() ?? new RoomError('payload_unavailable', 'This payload needs the payload decoder, which is not loaded', 0);
}

/** Decodes `payload`, loading the decoder first if it needs it. Rejects like {@link decodeNow}, or with the load's `RoomError`. */
export async function decodeLater<T = unknown>(payload: EncodedPayload, fresh = false): Promise<T> {
	if (needsDecoder(payload)) await loadPayloadCodec();
	return decodeNow<T>(payload, fresh);
}
