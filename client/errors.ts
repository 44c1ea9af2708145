/**
 * Errors the client raises on its own, next to the ones the room sends (`RoomError` and friends in
 * `rpc/errors.ts`). All of them are `RoomError`s, so one `catch` with `error.code` covers both.
 */
import { CloseCode } from '../rpc/protocol.js';
import { RoomError } from '../rpc/errors.js';

/** What each terminal close code becomes: the error's `code`, `status`, and message (the room's reason follows it). */
const TERMINAL_CODES: Record<number, [code: string, status: number, message: string]> = {
	[CloseCode.Kicked]: ['kicked', 403, 'Removed from the room'],
	[CloseCode.Unauthorized]: ['unauthorized', 401, 'Not authorized to join the room'],
	[CloseCode.Forbidden]: ['forbidden', 403, 'Not allowed to join this room'],
	[CloseCode.VersionMismatch]: ['version_mismatch', 426, 'Reload'],
};

/**
 * The room closed the socket with a terminal close code (kicked, unauthorized, forbidden, or
 * `version_mismatch`: the page runs a client of another deploy than the server's, and must be
 * reloaded). The client does not reconnect on its own after this; call `connect()` to try again
 * deliberately.
 */
export class ClosedByRoom extends RoomError {
	/** The WebSocket close code, e.g. `4001` for a kick. */
	declare readonly closeCode: number;
	/** The close reason the room gave, if any. */
	declare readonly reason: string;

	constructor(closeCode: number, reason = '') {
		const [code, status, message] = TERMINAL_CODES[closeCode] ?? ['closed', 400, 'Closed by the room'];
		super(code, reason ? `${message}: ${reason}` : message, status);
		this.name = 'ClosedByRoom';
		this.closeCode = closeCode;
		this.reason = reason;
	}
}

/**
 * Every reconnect attempt failed. The client rests in `'disconnected'` and tries again when the
 * browser comes back online, when the tab becomes visible, or when `connect()` is called.
 */
export class RetriesExhausted extends RoomError {
	declare readonly attempts: number;
	/** The close code of the last failed attempt (1006 when the socket never opened). */
	declare readonly lastCloseCode: number;

	constructor(attempts: number, lastCloseCode: number) {
		super('retries_exhausted', `Could not reach the room after ${attempts} attempts (last close code ${lastCloseCode})`, 503);
		this.name = 'RetriesExhausted';
		this.attempts = attempts;
		this.lastCloseCode = lastCloseCode;
	}
}

/** A `send()` waiting for the connection was dropped: the queue was full, or the client stopped. */
export class SendDropped extends RoomError {
	constructor(event: string, why: string) {
		super('send_dropped', `"${event}" was not sent: ${why}`, 503);
		this.name = 'SendDropped';
	}
}
