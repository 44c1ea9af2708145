/**
 * capnweb 0.12's encoding of data values (its `serialize` and `deserialize`), without capnweb: the
 * client's plain path writes a call's arguments and reads answers and events with these, so a
 * browser needs capnweb (a lazily loaded chunk, `calls/sessions.ts`) only for what a session does.
 *
 * Only data: primitives, non-finite numbers, `undefined`, arrays, plain objects, bigints, Dates,
 * byte containers (`Uint8Array`, `ArrayBuffer`, the other typed arrays, `DataView`), URLs and
 * Headers; reading also Errors. Anything else (stubs, targets, functions, streams, requests,
 * responses, blobs; writing an Error) is a session's: {@link writeData} returns `undefined` and
 * {@link readData} throws {@link NEEDS_SESSION}. What both do, they do byte for byte and value for
 * value as capnweb does (`tests/calls/wire-value.test.ts`).
 */

/** capnweb's `DEFAULT_LIMITS`: what a session refuses to read. */
export const LIMITS = { maxBigIntDigits: 16_384, maxDepth: 256, maxMessageSize: 32 * 1024 * 1024 } as const;

/** Thrown by {@link readData} for a value only a session can read. */
export const NEEDS_SESSION = new TypeError('this value needs a capnweb session');

/**
 * The names a capnweb stub answers itself instead of calling the remote method of that name
 * (`name in RpcPromise.prototype`): its own methods, and everything `Object.prototype` has.
 */
export const STUB_NAMES: ReadonlySet<string> = new Set([
	'then',
	'catch',
	'finally',
	'dup',
	'onRpcBroken',
	'map',
	...Object.getOwnPropertyNames(Object.prototype),
]);

/** Byte containers by prototype, with the marker capnweb writes for them (none for `Uint8Array`). */
const BYTE_MARKERS = new Map<object, string | undefined>(
	[
		'ArrayBuffer',
		'DataView',
		'Int8Array',
		'Uint8ClampedArray',
		'Int16Array',
		'Uint16Array',
		'Int32Array',
		'Uint32Array',
		'BigInt64Array',
		'BigUint64Array',
		'Float32Array',
		'Float64Array',
	].map((name) => [(globalThis as unknown as Record<string, { prototype: object }>)[name]!.prototype, name]),
);
BYTE_MARKERS.set(Uint8Array.prototype, undefined);

/** Bytes per element of the byte containers that have more than one. */
const ELEMENT_SIZE: Record<string, number> = {
	__proto__: null as never,
	Int16Array: 2,
	Uint16Array: 2,
	Int32Array: 4,
	Uint32Array: 4,
	BigInt64Array: 8,
	BigUint64Array: 8,
	Float32Array: 4,
	Float64Array: 8,
};
const BYTE_CONTAINERS = new Set([...BYTE_MARKERS.values()].filter((name) => name !== undefined) as string[]).add('Uint8Array');
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const NOT_DATA = Symbol('not data');

/**
 * `serialize(value)`, or `undefined` when capnweb would need a session to write `value` (or would
 * refuse it): anything but the data this module knows, Errors included.
 */
export function writeData(value: unknown): string | undefined {
	try {
		return JSON.stringify(devaluate(value, 0));
	} catch (error) {
		if (error === NOT_DATA) return undefined;
		throw error;
	}
}

function devaluate(value: unknown, depth: number): unknown {
	if (depth >= LIMITS.maxDepth) throw NOT_DATA;
	switch (typeof value) {
		case 'boolean':
		case 'string':
			return value;
		case 'number':
			return isFinite(value) ? value : value === Infinity ? ['inf'] : value === -Infinity ? ['-inf'] : ['nan'];
		case 'undefined':
			return ['undefined'];
		case 'bigint':
			return ['bigint', value.toString()];
		case 'object':
			break;
		default:
			throw NOT_DATA;
	}
	if (value === null) return null;
	const proto: unknown = Object.getPrototypeOf(value);
	if (proto === Object.prototype) {
		const object = value as Record<string, unknown>;
		const result: Record<string, unknown> = {};
		for (const key in object) result[key] = devaluate(object[key], depth + 1);
		return result;
	}
	if (proto === Array.prototype) {
		const array = value as unknown[];
		const result = new Array<unknown>(array.length);
		for (let i = 0; i < array.length; i++) result[i] = devaluate(array[i], depth + 1);
		return [result];
	}
	if (proto === Date.prototype) {
		const time = (value as Date).getTime();
		return ['date', Number.isNaN(time) ? null : time];
	}
	if (proto === URL.prototype) return ['url', (value as URL).href];
	if (proto === Headers.prototype) return ['headers', [...(value as Headers)]];
	if (BYTE_MARKERS.has(proto as object)) return writeBytes(value as ArrayBuffer | ArrayBufferView, BYTE_MARKERS.get(proto as object));
	throw NOT_DATA;
}

function writeBytes(value: ArrayBuffer | ArrayBufferView, marker: string | undefined): unknown[] {
	let bytes = ArrayBuffer.isView(value) ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : new Uint8Array(value);
	const size = marker && ELEMENT_SIZE[marker];
	if (!LITTLE_ENDIAN && size) bytes = swapped(bytes.slice(), size);
	const base64 = toBase64(bytes).replace(/=+$/, '');
	return marker === undefined ? ['bytes', base64] : ['bytes', base64, marker];
}

function toBase64(bytes: Uint8Array): string {
	const native = (bytes as Uint8Array & { toBase64?: (options: { omitPadding: boolean }) => string }).toBase64;
	if (native) return native.call(bytes, { omitPadding: true });
	let binary = '';
	for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!);
	return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
	const buffer = (globalThis as { Buffer?: { from(text: string, encoding: string): Uint8Array } }).Buffer;
	// As capnweb: a Node/Bun Buffer where there is one.
	if (buffer) return buffer.from(text, 'base64');
	const native = (Uint8Array as unknown as { fromBase64?: (text: string) => Uint8Array }).fromBase64;
	if (native) return native(text);
	const binary = atob(text);
	const bytes = new Uint8Array(binary.length);
	for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
	return bytes;
}

/** Big-endian machines: capnweb sends byte containers little-endian. */
function swapped(bytes: Uint8Array, size: number): Uint8Array {
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	for (let at = 0; at < bytes.byteLength; at += size) {
		if (size === 2) view.setUint16(at, view.getUint16(at, false), true);
		else if (size === 4) view.setUint32(at, view.getUint32(at, false), true);
		else view.setBigUint64(at, view.getBigUint64(at, false), true);
	}
	return bytes;
}

const ERROR_TYPES: Record<string, ErrorConstructor> = {
	__proto__: null as never,
	Error,
	EvalError,
	RangeError,
	ReferenceError,
	SyntaxError,
	TypeError,
	URIError,
	AggregateError: AggregateError as unknown as ErrorConstructor,
};

/**
 * capnweb's Evaluator for data: `value` (parsed JSON, changed in place) evaluated `depth` levels
 * down, as `deserialize` evaluates it, with the same errors for what it refuses. Throws
 * {@link NEEDS_SESSION} for what only a session reads (stubs, promises, pipelines, streams,
 * requests, responses, blobs).
 */
export function readData(value: unknown, depth: number): unknown {
	if (depth >= LIMITS.maxDepth) throw new TypeError(`Deserialization exceeded maximum allowed message depth of ${LIMITS.maxDepth}.`);
	if (typeof value !== 'object' || value === null) return value;
	if (Array.isArray(value)) {
		const inner: unknown = value[0];
		if (value.length === 1 && Array.isArray(inner)) {
			for (let i = 0; i < inner.length; i++) inner[i] = readData(inner[i], depth + 1);
			return inner;
		}
		const special = readSpecial(value, depth);
		if (special !== NOT_DATA) return special;
		throw new TypeError(`unknown special value: ${JSON.stringify(value)}`);
	}
	const object = value as Record<string, unknown>;
	for (const key in object) {
		if (key in Object.prototype || key === 'toJSON') {
			// Evaluated (it may throw), then dropped: capnweb never sets these keys.
			readData(object[key], depth + 1);
			delete object[key];
		} else object[key] = readData(object[key], depth + 1);
	}
	return object;
}

/** A tagged value (`["date", 5]`…), or NOT_DATA when it is malformed (capnweb calls it unknown). */
function readSpecial(value: unknown[], depth: number): unknown {
	const [tag, first] = value;
	switch (tag) {
		case 'bigint':
			if (typeof first !== 'string') return NOT_DATA;
			if (first.length > LIMITS.maxBigIntDigits) throw new TypeError(`Deserialized bigint exceeds maximum length of ${LIMITS.maxBigIntDigits} digits.`);
			return BigInt(first);
		case 'date':
			if (first === null) return new Date(NaN);
			return typeof first === 'number' ? new Date(first) : NOT_DATA;
		case 'bytes':
			return typeof first === 'string' ? readBytes(fromBase64(first), value) : NOT_DATA;
		case 'error':
			return readError(value, depth);
		case 'undefined':
			return value.length === 1 ? undefined : NOT_DATA;
		case 'inf':
			return Infinity;
		case '-inf':
			return -Infinity;
		case 'nan':
			return NaN;
		case 'url':
			return value.length === 2 && typeof first === 'string' ? new URL(first) : NOT_DATA;
		case 'headers':
			return value.length === 2 && Array.isArray(first) ? new Headers(first as [string, string][]) : NOT_DATA;
		case 'import':
		case 'pipeline':
		case 'remap':
		case 'export':
		case 'promise':
		case 'writable':
		case 'readable':
		case 'request':
		case 'response':
		case 'blob':
			throw NEEDS_SESSION;
		default:
			return NOT_DATA;
	}
}

function readBytes(bytes: Uint8Array, value: unknown[]): unknown {
	if (value.length === 2) return bytes;
	const marker = value[2];
	if (typeof marker !== 'string') throw new TypeError(`Unknown bytes type marker type: ${typeof marker}`);
	if (!BYTE_CONTAINERS.has(marker)) throw new TypeError(`Unknown bytes type marker: ${marker.slice(0, 64)}`);
	const size = ELEMENT_SIZE[marker];
	if (size !== undefined && bytes.byteLength % size !== 0)
		throw new TypeError(`Invalid byte length ${bytes.byteLength} for ${marker}; expected a multiple of ${size}`);
	const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
	if (!LITTLE_ENDIAN && size !== undefined) swapped(new Uint8Array(buffer), size);
	if (marker === 'ArrayBuffer') return buffer;
	return new (globalThis as unknown as Record<string, new (buffer: ArrayBuffer) => unknown>)[marker]!(buffer);
}

/**
 * `["error", name, message, stack?, props?]`; as capnweb, a malformed one falls through to the
 * tags after `error` (none matches it), so it is an unknown special value.
 */
function readError(value: unknown[], depth: number): unknown {
	const [, name, message, stack, props] = value;
	if (value.length < 3 || typeof name !== 'string' || typeof message !== 'string') return NOT_DATA;
	const Type = ERROR_TYPES[name] ?? Error;
	const error: Error = Type === (AggregateError as unknown) ? new AggregateError([], message) : new Type(message);
	if (typeof stack === 'string') error.stack = stack;
	if (value.length >= 5) {
		if (!props || typeof props !== 'object' || Array.isArray(props)) return NOT_DATA;
		for (const key of Object.keys(props)) {
			if (key === 'name' || key === 'message' || key === 'stack') continue;
			const read = readData((props as Record<string, unknown>)[key], depth + 1);
			if (!(key in Object.prototype || key === 'toJSON')) (error as unknown as Record<string, unknown>)[key] = read;
		}
	}
	return error;
}
