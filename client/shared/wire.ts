/**
 * Errors and status changes across a `MessagePort`. Structured clone keeps an error's message but
 * not its class or its own fields, so errors cross as plain data and are rebuilt on the tab side:
 * callers catch the same `ConnectionLost`, `CallTimeout`, `ClosedByRoom`, `RetriesExhausted`,
 * `SendDropped` or `RoomError` (same `code`, `status`, `message`) as with a direct socket.
 */
import { CallTimeout, ConnectionLost, RoomError, type RoomErrorData } from '../../rpc/errors.js';
import { ClosedByRoom, RetriesExhausted, SendDropped } from '../errors.js';
import type { StatusChange } from '../transport.js';

/** A `RoomError` (or anything thrown) as data: its class name, its data, and the fields its class adds. */
export interface WireError extends RoomErrorData {
	name: string;
	closeCode?: number;
	reason?: string;
	attempts?: number;
	lastCloseCode?: number;
}

export interface WireStatusChange extends Omit<StatusChange, 'error'> {
	error?: WireError | null;
}

export function errorToWire(error: unknown): WireError {
	const room = RoomError.from(error);
	const wire: WireError = { name: error instanceof Error ? error.name : 'RoomError', ...room.toJSON() };
	if (error instanceof ClosedByRoom) Object.assign(wire, { closeCode: error.closeCode, reason: error.reason });
	if (error instanceof RetriesExhausted) Object.assign(wire, { attempts: error.attempts, lastCloseCode: error.lastCloseCode });
	return wire;
}

/** Rebuilds the error a direct socket would have raised. */
export function errorFromWire(wire: WireError): RoomError {
	let error: RoomError;
	switch (wire.name) {
		case 'ConnectionLost':
			error = new ConnectionLost(wire.message);
			break;
		case 'CallTimeout':
			error = new CallTimeout(0);
			break;
		case 'ClosedByRoom':
			error = new ClosedByRoom(wire.closeCode ?? 0, wire.reason ?? '');
			break;
		case 'RetriesExhausted':
			error = new RetriesExhausted(wire.attempts ?? 0, wire.lastCloseCode ?? 1006);
			break;
		case 'SendDropped':
			error = new SendDropped('', '');
			break;
		default:
			return RoomError.from(wire);
	}
	// The class decides code and status; the message is whatever the worker's error said.
	error.message = wire.message;
	return error;
}

export function changeToWire(change: StatusChange): WireStatusChange {
	const { error, ...rest } = change;
	return error === undefined ? rest : { ...rest, error: error && errorToWire(error) };
}

export function changeFromWire(wire: WireStatusChange): StatusChange {
	const { error, ...rest } = wire;
	return error === undefined ? rest : { ...rest, error: error && errorFromWire(error) };
}
