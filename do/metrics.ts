/** What a room tells an operator about its own work: `onMetric` events and `metrics()` counters. */

/**
 * What a room reports about its own work, to {@link WebsocketServer.onMetric}: enough for an
 * operator to see what a room does and why it refuses.
 *
 * - `batch`: one call frame answered (`answered`), past `callTimeoutMs` (`timeout`), one capnweb
 *   could not run (`failed`), or dropped because its socket left (`dropped`). `ms` is wall time as
 *   workerd measures it: it advances across awaited I/O (storage, fetch, timers), not while code
 *   runs without awaiting.
 * - `refused`: a frame refused whole, with the code its sender got.
 * - `socket_refused`: a socket turned away at the door (4429, 4503).
 * - `closed`: a socket the room closed for cause (`idle_timeout`, `too_many_refusals`).
 */
export type RoomMetric =
	| { kind: 'batch'; session: string; calls: number; refused: number; ms: number; outcome: 'answered' | 'timeout' | 'failed' | 'dropped' }
	| { kind: 'refused'; session: string; code: string; status: number }
	| { kind: 'socket_refused'; code: number; reason: string }
	| { kind: 'closed'; session: string; code: number; reason: string };

/** Counters since this instance of the room started (they start over after eviction). */
export interface RoomMetrics {
	sessions: number;
	frames: number;
	batches: number;
	calls: number;
	/** Calls answered `rate_limited` inside batches that otherwise ran. */
	callsRefused: number;
	/** Frames refused whole, by code. */
	refused: Record<string, number>;
	/** Sockets turned away, by close code. */
	socketsRefused: Record<string, number>;
	/** Sockets the room closed for cause, by reason code. */
	closed: Record<string, number>;
}

/** The counters a room keeps; `metrics()` adds the session count. */
export type Counters = Omit<RoomMetrics, 'sessions'>;

export function newCounters(): Counters {
	return { frames: 0, batches: 0, calls: 0, callsRefused: 0, refused: {}, socketsRefused: {}, closed: {} };
}

export function count(counts: Record<string, number>, key: string): void {
	counts[key] = (counts[key] ?? 0) + 1;
}
