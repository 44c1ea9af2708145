/**
 * How the orchestrator and a client process talk: the client's config is one JSON argument; then
 * one JSON object per stdout line from the client, one word per stdin line from the orchestrator.
 *
 *   client → {"type":"ready"}           connected and warmed up
 *   orch   → go                         start measuring now
 *   orch   → stop                       report what you have (a receiver that is still waiting)
 *   client → {"type":"result", …}       the measurement
 *   orch   → exit                       close the sockets and exit
 *   client → {"type":"error","message"} anything went wrong; the client exits non-zero
 *
 * Clients close their sockets only on `exit`, after every client reported: a socket closing during
 * a measurement would make the room announce it to everyone else and pollute the server CPU figure.
 */
import type { Impl } from './impl.js';

interface Common {
	impl: Impl;
	wsOrigin: string;
	room: string;
	/** Offer permessage-deflate (browsers do). */
	deflate: boolean;
	/** Hard limit for the whole process, in ms: it reports an error and exits after this. */
	deadlineMs: number;
}

/** Sequential round trips on each of `sockets` sockets (1 = strictly sequential). */
export interface RpcConfig extends Common {
	role: 'rpc';
	sockets: number;
	warmup: number;
	calls: number;
	payloadBytes: number;
}

/**
 * One socket that asks the room for `broadcasts` broadcasts, at most `window` unanswered, and
 * (when `intervalMs` > 0) no faster than one per `intervalMs`.
 */
export interface SendConfig extends Common {
	role: 'send';
	broadcasts: number;
	warmup: number;
	window: number;
	intervalMs: number;
	payloadBytes: number;
}

/** `sockets` sockets that each expect `broadcasts` broadcasts, in order, exactly once. */
export interface ReceiveConfig extends Common {
	role: 'receive';
	sockets: number;
	broadcasts: number;
}

export type ClientConfig = RpcConfig | SendConfig | ReceiveConfig;

/** A broadcast's payload: the sender's sequence number and send time on the shared clock. */
export interface Shout {
	seq: number;
	t: number;
	/** Set on warm-up broadcasts, which receivers ignore. */
	warm?: true;
	pad: string;
}

export interface RpcResult {
	type: 'result';
	calls: number;
	errors: number;
	elapsedMs: number;
	p50: number;
	p99: number;
	max: number;
	clientCpuUs: number;
}

export interface SendResult {
	type: 'result';
	sent: number;
	ownMissing: number;
	startAt: number;
	endAt: number;
}

export interface ReceiveResult {
	type: 'result';
	expected: number;
	deliveries: number;
	missing: number;
	outOfOrder: number;
	duplicates: number;
	/** Per-delivery latency in ms, rounded to µs. */
	latencies: number[];
	lastAt: number;
	clientCpuUs: number;
}

export type ClientMessage =
	| { type: 'ready' }
	| { type: 'error'; message: string }
	| RpcResult
	| SendResult
	| ReceiveResult;
