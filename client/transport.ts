/**
 * `RoomTransport`: how a `WebsocketClient` reaches a room. The client keeps the reactive state
 * (status, presence, listeners); the transport owns everything about the wire: the socket,
 * reconnects, keep-alive, the send queue.
 *
 * Two transports exist: a direct socket per client (`SocketTransport`), and the shared one
 * (client/shared/): a SharedWorker holds one socket per room for every tab, running a
 * `SocketTransport` per room and fanning what it reports out to the tabs; the tab-side `PortTransport`
 * forwards `connect`/`send` over a `MessagePort`, gathers its `rpc` calls with its own
 * `CallBatcher` and has the worker carry each batch (`SocketTransport.callBatch`), and replays the
 * worker's status and events into the same {@link TransportHandlers}. The client class does not
 * change.
 */
import type { RoomError } from '../rpc/errors.js';

/**
 * - `'connecting'`: the first attempt after `connect()`.
 * - `'connected'`: the socket is open and the room has sent its session list.
 * - `'reconnecting'`: the connection dropped; waiting out the backoff or retrying.
 * - `'disconnected'`: not trying. Either never connected, `disconnect()` was called, the room
 *   closed with a terminal code, or every retry failed (see `error`).
 */
export type ConnectionStatus = 'disconnected' | 'connecting' | 'connected' | 'reconnecting';

/** Details of a status change. */
export interface StatusChange {
	/** The room this status is about (on a room switch, the old room's `'disconnected'` names it). */
	room: string;
	/**
	 * Why the transport stopped for good (`ClosedByRoom`, `RetriesExhausted`, a bad URL), or, with
	 * `'reconnecting'`, why the last attempt failed when that is known (`connect_timeout`); `null`
	 * once a connection succeeds or after `disconnect()`. Absent: unchanged.
	 */
	error?: RoomError | null;
	/** When a socket ended: its close code (1006 when it never opened or died without a close frame). */
	closeCode?: number;
	closeReason?: string;
	/** For `'reconnecting'`: which retry is scheduled, and in how many milliseconds. */
	attempt?: number;
	retryInMs?: number;
}

/** Something the client should know about that is not an error of the room. */
export interface TransportWarning {
	/** `send_queue_full`: the oldest queued `send()` was dropped to make room. */
	code: 'send_queue_full';
	message: string;
	/** The event that was dropped. */
	event: string;
}

/** What a transport reports to its client, in order. */
export interface TransportHandlers {
	status(status: ConnectionStatus, change: StatusChange): void;
	/**
	 * An event from the current room, payload decoded. `session:list` arrives before `'connected'`.
	 * Called as a plain function (not as a method of this object): give a bound one.
	 */
	event(name: string, data: unknown): void;
	warning(warning: TransportWarning): void;
}

export interface RoomTransport<Remote = unknown> {
	readonly status: ConnectionStatus;
	/** The room being connected to, or `null` after `disconnect()`. */
	readonly room: string | null;
	/**
	 * Connects to `room` (leaving any other room first) and keeps reconnecting per the policy.
	 * Resolves once connected; rejects when the attempt stops for good or is superseded.
	 */
	connect(room: string): Promise<void>;
	/** Closes the socket and stops reconnecting. Pending calls and queued sends reject. */
	disconnect(): void;
	/** The room's API for calls made in this macrotask; calls reject with `ConnectionLost` unless connected. */
	readonly rpc: Remote;
	/** Sends an event to the room's `onMessage`; queued while connecting or reconnecting. */
	send(event: string, data: unknown): Promise<unknown>;
	/**
	 * Starts an attempt now instead of waiting out the backoff (or, after the retries ran out, starts
	 * over). Does nothing while connected, mid-attempt, or stopped by a terminal close.
	 */
	retryNow(): void;
	/** Stops everything for good and releases every subscription. */
	destroy(): void;
	/**
	 * The client started following entity changes from `since` (-1: from now) while joined. Only a
	 * transport whose socket is not the client's own needs it: a socket of the client's own reads
	 * `since` for every attempt.
	 */
	follow?(since: number): void;
}

/** Builds a transport that reports to `handlers`. */
export type TransportFactory<Remote = unknown> = (handlers: TransportHandlers) => RoomTransport<Remote>;
