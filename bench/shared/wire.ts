/**
 * How the orchestrator and a client process talk: the client's config is one JSON argument; then
 * one JSON object per stdout line from the client, one word per stdin line from the orchestrator.
 *
 *   client → {"type":"ready"}           connected and warmed up (a crowd: started, not connected)
 *   orch   → connect                    a crowd: open the sockets now → {"type":"joined", …}
 *   orch   → go                         start measuring now
 *   orch   → next                       an idle client: the idle is over, call now
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

/**
 * Many sockets of one process in one room (connect storm, memory, soak). On `connect` they open,
 * at most `connectConcurrency` upgrades in flight, and the client reports `joined` once every
 * socket is open and (ours) knows of `total` sessions. On `go` they expect `broadcasts`
 * broadcasts each (exactly once, in order) and, if `rpcEveryMs` > 0, make one echo call every
 * `rpcEveryMs` ms, round robin over the sockets. `stop` ends it with a `CrowdResult`.
 */
export interface CrowdConfig extends Common {
	role: 'crowd';
	sockets: number;
	/** Sessions in the room once every socket of the crowd is in (those already there included). */
	total: number;
	connectConcurrency: number;
	/** Joining ends early when nothing opened and no socket learned of a session for this long. */
	stallMs: number;
	broadcasts: number;
	rpcEveryMs: number;
	payloadBytes: number;
}

/**
 * Sockets joined one at a time (overlapping upgrades keep a local room from being evicted) into
 * each of `rooms`, `perRoom` each, of the counted variant; `warmCalls` echo calls on each. On
 * `go` they idle for `idleMs`, every socket pinging every `pingEveryMs` ms if that is > 0, and
 * report `idled`. On `next`, the first socket of each room, in order, makes one call (timed: the
 * first call after the idle) and then `warmCalls` more (timed: warm calls); result `IdleResult`.
 */
export interface IdleConfig extends Common {
	role: 'idle';
	rooms: string[];
	perRoom: number;
	warmCalls: number;
	idleMs: number;
	pingEveryMs: number;
	payloadBytes: number;
}

export type ClientConfig = RpcConfig | SendConfig | ReceiveConfig | CrowdConfig | IdleConfig;

/** The words the orchestrator sends (one per stdin line). */
export type Word = 'connect' | 'go' | 'next' | 'stop' | 'exit';

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

/** What sockets saw of the broadcasts (`roles/deliveries.ts`): each must get each exactly once, in order. */
export interface DeliveryCounts {
	expected: number;
	deliveries: number;
	missing: number;
	outOfOrder: number;
	duplicates: number;
	/** Per-delivery latency in ms (shared clock), rounded to µs. */
	latencies: number[];
}

export interface ReceiveResult extends DeliveryCounts {
	type: 'result';
	lastAt: number;
	clientCpuUs: number;
}

export interface JoinedMessage {
	type: 'joined';
	/** Shared-clock times (`clock.ts`): the first and last socket open, and when every socket knew everyone. */
	firstOpenAt: number;
	lastOpenAt: number;
	settledAt: number;
	/**
	 * Sockets that failed to open three times (`failed`), sockets whose first upgrade failed
	 * (`retried`, tried again after 1 s and 2 s as the library's client would), and why (the
	 * first few failures).
	 */
	failed: number;
	retried: number;
	failReasons: string[];
	/**
	 * Sockets that knew fewer than `total` sessions when joining ended: the orchestrator's deadline
	 * passed, or no socket opened or learned of a session for `stallMs`.
	 */
	unsettled: number;
	/** Fewest and most sessions a socket knew of when joining ended; leaves heard; sockets closed. */
	fewestSessions: number;
	mostSessions: number;
	leaves: number;
	closedAtJoin: number;
	framesAtJoin: number;
	charsAtJoin: number;
	clientCpuUs: number;
	/** Of `clientCpuUs`, what the JIT compiler's threads used (`shared/threads.ts`). */
	clientJitCpuUs: number;
}

export interface CrowdResult extends DeliveryCounts {
	type: 'result';
	/** Frames received by every socket since `connect` (presence, events, replies), and their characters. */
	frames: number;
	chars: number;
	calls: number;
	callErrors: number;
	callLatencies: number[];
	/** Sockets that closed while they should have stayed open, and their close codes. */
	closed: number;
	closeCodes: Record<string, number>;
	clientCpuUs: number;
}

export interface IdledMessage {
	type: 'idled';
	pings: number;
	pongs: number;
	/** Frames other than pongs that arrived during the idle (a room that woke up and spoke). */
	otherFrames: number;
	closed: number;
}

export interface IdleResult {
	type: 'result';
	/** Per room, in `rooms` order: the first call's round trip after the idle, in ms. */
	firstCallMs: number[];
	/** Every warm call after it, all rooms, in ms. */
	warmMs: number[];
	/** Warm calls before the idle, all rooms, in ms. */
	warmBeforeMs: number[];
	errors: number;
}

export type ClientMessage =
	{ type: 'ready' } | { type: 'error'; message: string } | RpcResult | SendResult | ReceiveResult | JoinedMessage | CrowdResult | IdledMessage | IdleResult;
