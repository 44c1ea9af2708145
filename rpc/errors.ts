/**
 * Errors that cross the wire. capnweb copies an error's own enumerable properties, so `code` and
 * `status` survive the trip from the room to the caller; `RoomError.from` restores the class on the
 * client side.
 */

/** Stable, machine-readable reasons a room refuses or fails a request. */
export type RoomErrorCode =
	| 'bad_request'
	| 'payload_too_large'
	| 'rate_limited'
	| 'forbidden_event'
	| 'unknown_method'
	| 'method_failed'
	| 'timeout'
	| 'connection_lost'
	| 'not_connected'
	| 'destroyed'
	| 'connect_timeout'
	| (string & {});

/** The plain-data shape of a {@link RoomError}, as sent inside `error` events. */
export interface RoomErrorData {
	code: RoomErrorCode;
	status: number;
	message: string;
}

/**
 * An error a room sends back. Throw one from a `RoomApi` method to give the caller a stable
 * `code` and an HTTP-like `status`; any other thrown error reaches the caller with its message and
 * the code `method_failed`.
 */
export class RoomError extends Error implements RoomErrorData {
	declare readonly code: RoomErrorCode;
	declare readonly status: number;

	constructor(code: RoomErrorCode, message: string, status = 500) {
		super(message);
		this.name = 'RoomError';
		// Own enumerable properties: capnweb serializes these alongside name and message.
		this.code = code;
		this.status = status;
	}

	/** Rebuilds a `RoomError` from anything thrown or received (an `Error` with `code`, or data). */
	static from(value: unknown): RoomError {
		if (value instanceof RoomError) return value;
		if (value && typeof value === 'object') {
			const { code, status, message } = value as Partial<RoomErrorData>;
			if (typeof code === 'string') {
				return new RoomError(code, String(message ?? code), typeof status === 'number' ? status : 500);
			}
			if (value instanceof Error) return new RoomError('method_failed', value.message, 500);
		}
		return new RoomError('method_failed', String(value), 500);
	}

	toJSON(): RoomErrorData {
		return { code: this.code, status: this.status, message: this.message };
	}
}

/**
 * What a call rejects with on the client: an error the room sent with a string `code` (a `RoomError`
 * thrown by a method, `method_failed`, `unknown_method`…) becomes a `RoomError` again, since capnweb
 * rebuilds every error it receives as a plain `Error` (keeping `code` and `status` as properties).
 * Anything else is left as it is.
 */
export function fromRoom(value: unknown): unknown {
	if (value instanceof RoomError || !(value instanceof Object) || typeof (value as { code?: unknown }).code !== 'string') return value;
	return RoomError.from(value);
}

/** A call was pending when its socket closed; it may or may not have run in the room. */
export class ConnectionLost extends RoomError {
	constructor(message = 'The connection to the room was lost before the call completed') {
		super('connection_lost', message, 0);
		this.name = 'ConnectionLost';
	}
}

/** A call got no reply within its timeout. */
export class CallTimeout extends RoomError {
	constructor(ms: number) {
		super('timeout', `The room did not answer within ${ms} ms`, 504);
		this.name = 'CallTimeout';
	}
}
