/**
 * Client call batches carried by capnweb sessions: what a recorded batch (`recorded-batch.ts`)
 * upgrades to when it is anything but the one plain call, every batch with `{ plainCalls: false }`
 * (the reference the recorded path is tested against), and a room → client batch that is not plain
 * calls. The browser loads this module, and capnweb with it, as a chunk of its own when the first
 * call needs it (`sessions.ts`); nothing else on the client imports capnweb.
 *
 * A session here lives for one batch: it sends its messages into a list that leaves as one frame at
 * the end of the macrotask, reads the room's answers to them, and ends (see `BATCH_ENDED`).
 */
import { RpcPromise, RpcSession, RpcStub, RpcTarget, type RpcTransport } from 'capnweb';
import type { Answer, BatchKit, LeavingOrder, SendBatch } from './batch-delivery.js';

export { deliverWithSession } from './answering-transport.js';

/** What this chunk uses of the client's first load, handed over by its loader (`sessions.ts`) rather than imported (see `BatchKit`). */
let kit: BatchKit;

export function useKit(given: BatchKit): void {
	kit = given;
}

/**
 * The client's side of a call batch offers the room nothing to call (room → client calls are
 * one-way batches of their own). An empty target rather than none: without a main object, capnweb
 * builds an Error per session to refuse calls that never come.
 */
export const NOTHING_TO_CALL = new (class NothingToCall extends RpcTarget {})();

/** The prototypes of capnweb's stubs and promises, which recorded stand-ins take on. */
export const STUB_PROTO: object = RpcStub.prototype;
export const PROMISE_PROTO: object = RpcPromise.prototype;

/** A capnweb promise of `promise`'s outcome (pipelining on it reads the value, as on a resolved import). */
export function localPromise(promise: Promise<unknown>): unknown {
	return new RpcPromise(promise);
}

/** A fresh session over `transport`: the room's main stub, its rejections room errors. */
export function sessionMain(transport: BatchingTransport): unknown {
	return withRoomErrors(new RpcSession(transport, NOTHING_TO_CALL).getRemoteMain());
}

/**
 * `endpoint` as a target a session can call: itself when it is an RpcTarget, else an RpcTarget
 * whose prototype has `endpoint`'s methods and getters (as a session finds them on its prototype
 * chain), each run on `endpoint`.
 */
export function asTarget(endpoint: object): RpcTarget {
	if (endpoint instanceof RpcTarget) return endpoint;
	class EndpointTarget extends RpcTarget {}
	const members = EndpointTarget.prototype;
	for (let proto: object | null = Object.getPrototypeOf(endpoint); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
		for (const name of Object.getOwnPropertyNames(proto)) {
			const found = Object.getOwnPropertyDescriptor(proto, name)!;
			if (name === 'constructor' || Object.hasOwn(members, name)) continue;
			const { value, get } = found;
			if (typeof value === 'function') Object.defineProperty(members, name, { value: (...args: unknown[]) => Reflect.apply(value, endpoint, args) });
			else if (get) Object.defineProperty(members, name, { get: () => Reflect.apply(get, endpoint, []) });
		}
	}
	return new EndpointTarget();
}

/**
 * The client end of one batch (the counterpart of capnweb's BatchClientTransport): collects what
 * its session sends until {@link take}, then feeds it the answer once {@link arrived}.
 */
export class BatchingTransport implements RpcTransport {
	#outgoing: string[] | null;
	#answer: Answer | null = null;
	#next = 0;
	#waiting: PromiseWithResolvers<string> | null = null;

	/** `sent: false` for a session replaying a batch that already left: what it sends goes nowhere. */
	constructor(sent = false) {
		this.#outgoing = sent ? null : [];
	}

	/** Ends collecting and returns the frame's messages. */
	take(): string[] {
		const outgoing = this.#outgoing ?? [];
		this.#outgoing = null;
		return outgoing;
	}

	/** How many messages were collected so far (-1 once the frame left). */
	get collected(): number {
		return this.#outgoing ? this.#outgoing.length : -1;
	}

	/**
	 * Puts `message` in place of the one collected at `at`, the only one since: a replayed call's
	 * message becomes the text recorded when the application made the call.
	 */
	rewrite(at: number, message: string): void {
		if (this.#outgoing && at >= 0 && this.#outgoing.length === at + 1) this.#outgoing[at] = message;
	}

	send(message: string): void {
		// After the frame left, late messages (releases, calls on a stale promise) have nowhere to go.
		this.#outgoing?.push(message);
	}

	receive(): Promise<string> {
		if (this.#answer) return new Promise((resolve, reject) => this.#read(resolve, reject));
		// capnweb reads one message at a time: at most one receive() waits.
		this.#waiting = Promise.withResolvers<string>();
		return this.#waiting.promise;
	}

	/** The room answered (or the batch failed): the session reads that next. */
	arrived(answer: Answer): void {
		this.#answer = answer;
		const waiting = this.#waiting;
		this.#waiting = null;
		if (waiting) this.#read(waiting.resolve, waiting.reject);
	}

	#read(resolve: (message: string) => void, reject: (error: unknown) => void): void {
		const answer = this.#answer!;
		if ('failure' in answer) return reject(answer.failure);
		const message = answer.replies[this.#next++];
		// Past the last answer: ends the session, and anything still unanswered rejects with this.
		if (message === undefined) reject(kit.BATCH_ENDED);
		else resolve(message);
	}
}

/**
 * One batch through a capnweb session from its first call: the room's API for this macrotask, whose
 * calls leave as one frame once it is over (`ended` runs then). The reference for recorded batches.
 */
export function sessionBatch(send: SendBatch, ended: () => void, order: LeavingOrder): { main: unknown } {
	const transport = new BatchingTransport();
	kit.afterThisMacrotask(() => {
		ended();
		const messages = transport.take();
		order.leave(() => kit.deliver(send, messages, (answer) => transport.arrived(answer)));
	});
	return { main: sessionMain(transport) };
}

type Settler = 'then' | 'catch' | 'finally';
const SETTLERS = new Set<PropertyKey>(['then', 'catch', 'finally']);

/**
 * capnweb's stub or promise `real`, whose rejections (and those of every stub, promise and call
 * result reached from it) are {@link fromRoom}'s: a `RoomError` thrown in the room is a `RoomError`
 * here, not the plain `Error` capnweb rebuilds. Everything else goes to capnweb unchanged, symbols
 * included, so capnweb still recognizes the stub when it is passed back into a call.
 */
export function withRoomErrors<T>(real: T): T {
	if (typeof real !== 'function') return real;
	return new Proxy(real as (...args: unknown[]) => unknown, ROOM_ERRORS) as T;
}

const ROOM_ERRORS: ProxyHandler<(...args: unknown[]) => unknown> = {
	get(target, prop) {
		const value: unknown = Reflect.get(target, prop);
		if (typeof prop === 'symbol' || typeof value !== 'function') return value;
		if (SETTLERS.has(prop)) return settler(target, prop as Settler);
		return withRoomErrors(value);
	},
	apply: (target, self, args) => withRoomErrors(Reflect.apply(target, self, args)),
};

/** `then`/`catch`/`finally` of a capnweb promise, rejecting with room errors rebuilt. */
function settler(target: (...args: unknown[]) => unknown, method: Settler): (...args: unknown[]) => Promise<unknown> {
	return (...args) => {
		// Asking for the result is what pulls it: once, as the application's own `then` would.
		const settled = (target as unknown as PromiseLike<unknown>).then(undefined, (error: unknown) => Promise.reject(kit.fromRoom(error)));
		return (settled[method as 'then'] as (...a: unknown[]) => Promise<unknown>).apply(settled, args);
	};
}
