/**
 * Client call batches without a capnweb session, for the batch nearly every tick makes: one call on
 * the room's API with plain data arguments, awaited (`await rpc.method(data)`).
 *
 * A session per batch (its setup, stubs, serialization, read loop, the promises they churn and its
 * teardown) cost the client ten times what the frame itself did. So `rpc` is a recording stand-in:
 * `rpc.method(...args)` with arguments `plainPush` can write is recorded with the line a session
 * would send, and returns a stand-in for the RpcPromise. When the batch leaves and it is exactly one
 * such call whose result was asked for (`then`), it sends the two lines a session would send and
 * reads the answer itself: `["resolve",1,<value>]` or `["reject",1,<value>]` of plain data.
 *
 * Anything else goes to a real capnweb session, and behaves exactly as it always did: the batch
 * "upgrades" by replaying what was recorded, in order, onto a fresh session (whose messages are the
 * ones the application's calls would have sent), and from then on the stand-ins forward every
 * operation to capnweb's own stubs and promises. That happens on the first operation recording
 * cannot take (pipelining, a second call, non-plain arguments, `dup`, `map`, dispose,
 * `onRpcBroken`, …), when the batch leaves as anything but the one plain call, and when the answer
 * is not plain (the session then reads the answer that arrived; what it would send is discarded,
 * the frame has left). `tests/calls/client-calls.test.ts` compares frames and outcomes with sessions.
 *
 * capnweb itself is loaded on demand (`sessions.ts`): before it is there, an operation recording
 * cannot take returns a stand-in for its result ({@link PendingNode}), done in order once capnweb
 * arrives, and the batch leaves then.
 *
 * The stand-ins are Proxies shaped like capnweb's (a function target; `RpcStub`/`RpcPromise`
 * prototypes once capnweb is loaded), so capnweb recognizes them when they are passed back into a
 * call: it then asks for their internal symbol, which upgrades their batch and hands capnweb the
 * real stub.
 */
import type { Answer, BatchKit, LeavingOrder, SendBatch } from '../batch-delivery.js';
import type { BatchingTransport } from '../session-batch.js';
import type { LazyChunk } from '../lazy-chunk.js';
import type { Sessions } from '../sessions.js';
import { evaluate, plainCall, PULL_FIRST, readPlainCall, REJECT_FIRST, RESOLVE_FIRST } from './plain.js';
import { LIMITS, STUB_NAMES } from './wire-value.js';

/**
 * What this chunk uses of the client's first load (see `BatchKit`) and capnweb's sessions
 * (`sessions.ts`), handed over by the loader of this chunk (`deferred-batch.ts`) rather than
 * imported.
 */
let kit: BatchKit & { sessions: LazyChunk<Sessions> };

export function useKit(given: typeof kit): void {
	kit = given;
}

/** A capnweb stub or RpcPromise as the stand-ins use it: a callable Proxy with any property. */
type Real = ((...args: unknown[]) => unknown) & { [key: PropertyKey]: unknown };

/** The `then`, `catch` and `finally` every stand-in for a call result answers itself while it can. */
type Settler = 'then' | 'catch' | 'finally';
const isSettler = (prop: PropertyKey): prop is Settler => prop === 'then' || prop === 'catch' || prop === 'finally';

/** What one stand-in is: the room's API, one of its methods, or a call's result. */
interface Node {
	readonly batch: RecordedBatch;
	/** What `Object.getPrototypeOf` says: capnweb's checks (`typeForRpc`) go by it. */
	readonly proto: object;
	get(prop: PropertyKey): unknown;
	apply(args: unknown[]): unknown;
	has(prop: PropertyKey): boolean;
	/** The capnweb stub or promise this stands for (upgrades the batch when needed). */
	real(): Real;
}

type Target = (() => void) & { node: Node };

/**
 * What capnweb's stubs answer to the traps stand-ins leave to them (capnweb's own Proxy refuses
 * most), for a batch whose capnweb has not loaded: the same answers and errors.
 */
const LIKE_A_STUB = new Proxy(() => {}, {
	construct() {
		throw new Error('An RPC stub cannot be used as a constructor.');
	},
	defineProperty() {
		throw new Error("Can't define properties on RPC stubs.");
	},
	deleteProperty() {
		throw new Error("Can't delete properties on RPC stubs.");
	},
	getOwnPropertyDescriptor: () => undefined,
	isExtensible: () => false,
	ownKeys: () => [],
	preventExtensions: () => true,
	set() {
		throw new Error("Can't assign properties on RPC stubs.");
	},
	setPrototypeOf() {
		throw new Error("Can't override prototype of RPC stubs.");
	},
});

/** The stub a trap goes to: the real one once capnweb is there. */
const stubOf = (node: Node): object => (node.batch.direct ? node.real() : LIKE_A_STUB);

/** The hot traps go to the node; every other one is the stub's business. */
const HANDLER: ProxyHandler<Target> = {
	get: (t, prop) => t.node.get(prop),
	apply: (t, _this, args) => t.node.apply(args),
	has: (t, prop) => t.node.has(prop),
	getPrototypeOf: (t) => t.node.proto,
	construct: (t, args) => Reflect.construct(stubOf(t.node) as Real, args),
	defineProperty: (t, prop, attributes) => Reflect.defineProperty(stubOf(t.node), prop, attributes),
	deleteProperty: (t, prop) => Reflect.deleteProperty(stubOf(t.node), prop),
	getOwnPropertyDescriptor: (t, prop) => Reflect.getOwnPropertyDescriptor(stubOf(t.node), prop),
	isExtensible: (t) => Reflect.isExtensible(stubOf(t.node)),
	ownKeys: (t) => Reflect.ownKeys(stubOf(t.node)),
	preventExtensions: (t) => Reflect.preventExtensions(stubOf(t.node)),
	set: (t, prop, value) => Reflect.set(stubOf(t.node), prop, value),
	setPrototypeOf: (t, proto) => Reflect.setPrototypeOf(stubOf(t.node), proto),
};

function standIn(node: Node): Real {
	// An arrow function, as capnweb's: callable, and without a `prototype` of its own.
	const target = (() => {}) as Target;
	target.node = node;
	return new Proxy(target, HANDLER) as unknown as Real;
}

/**
 * The prototypes stand-ins report: capnweb's `RpcStub` and `RpcPromise` ones once capnweb is loaded
 * (capnweb recognizes a stand-in passed into a call by them; only a session does that), these until
 * then.
 */
const NOT_YET_STUB: object = Object.freeze({ toString: () => '[object RpcStub]' });
const NOT_YET_PROMISE: object = Object.freeze(Object.create(NOT_YET_STUB, { toString: { value: () => '[object RpcPromise]' } }));
const stubProto = (): object => kit.sessions.now()?.STUB_PROTO ?? NOT_YET_STUB;
const promiseProto = (): object => kit.sessions.now()?.PROMISE_PROTO ?? NOT_YET_PROMISE;

/**
 * A property of a stand-in that recording does not answer: capnweb's, at once when capnweb is
 * loaded, else a stand-in for it ({@link RecordedBatch.later}). `then`, `catch` and `finally` give
 * real promises of the outcome either way.
 */
function forwardGet(node: Node, prop: PropertyKey): unknown {
	const { batch } = node;
	if (!batch.direct) {
		if (isSettler(prop)) return (...args: unknown[]) => batch.settle(node, prop, args);
		// As capnweb's promises: no symbol but `Symbol.dispose`; `toString` and `Object.prototype`'s
		// names answered by the promise itself.
		if (typeof prop === 'symbol' && prop !== Symbol.dispose) return undefined;
		if (prop === '__proto__') return promiseProto();
		if (typeof prop === 'string' && STUB_NAMES.has(prop) && prop in NOT_YET_PROMISE) return (NOT_YET_PROMISE as Record<string, unknown>)[prop];
	}
	return batch.later(node, (real) => real[prop], node);
}

/** The room's API (`rpc`): as capnweb's main stub, every other name is a method. */
class MainNode implements Node {
	constructor(readonly batch: RecordedBatch) {}

	get proto(): object {
		return stubProto();
	}

	get(prop: PropertyKey): unknown {
		if (typeof prop === 'string') {
			// As capnweb: names a promise has are read from the stub itself (`then` is undefined).
			if (STUB_NAMES.has(prop)) {
				const proto = stubProto() as Record<string, unknown>;
				if (prop === '__proto__') return proto;
				// `then`, `catch` and `finally` are undefined; `dup`, `map` and `onRpcBroken` wait for capnweb.
				if (isSettler(prop) || prop in proto) return proto[prop];
				return this.batch.later(this, (real) => real[prop], this);
			}
			if (this.batch.recording) return standIn(new MemberNode(this.batch, prop));
		}
		return forwardGet(this, prop);
	}

	apply(args: unknown[]): unknown {
		return this.batch.later(this, (real) => Reflect.apply(real, undefined, args));
	}

	has(prop: PropertyKey): boolean {
		if (typeof prop === 'string') return STUB_NAMES.has(prop) ? !isSettler(prop) : true;
		return this.batch.direct ? Reflect.has(this.batch.realMain(), prop) : prop === Symbol.dispose;
	}

	real(): Real {
		return this.batch.realMain();
	}
}

/** `rpc.<name>`: calling it with plain data is recorded; anything else is capnweb's. */
class MemberNode implements Node {
	#real: Real | undefined;
	constructor(
		readonly batch: RecordedBatch,
		readonly name: string,
	) {}

	get proto(): object {
		return promiseProto();
	}

	get(prop: PropertyKey): unknown {
		return forwardGet(this, prop);
	}

	apply(args: unknown[]): unknown {
		if (this.batch.recording) {
			const line = plainCall(this.name, args);
			if (line !== undefined) return this.batch.record(new CallNode(this.batch, line, args));
		}
		return this.batch.later(this, (real) => Reflect.apply(real, undefined, args));
	}

	has(prop: PropertyKey): boolean {
		return typeof prop === 'string' || (this.batch.direct ? Reflect.has(this.real(), prop) : false);
	}

	real(): Real {
		// One real promise per stand-in, as one capnweb RpcPromise per `rpc.<name>`.
		return (this.#real ??= this.batch.realMain()[this.name] as Real);
	}
}

/** The result of a recorded call. */
class CallNode implements Node {
	/** The capnweb promise this call became, once the batch upgraded or was answered. */
	real_: Real | undefined;
	/** Settles with the call's outcome; made by the first `then`, which asks for the result. */
	deferred: PromiseWithResolvers<unknown> | undefined;
	/** Something went to the real promise: everything does from then on. */
	#forwarded = false;

	constructor(
		readonly batch: RecordedBatch,
		/** The `push` line a session sends for this call. */
		readonly line: string,
		/** The arguments as given; only replayed if the line cannot give fresh copies. */
		readonly args: unknown[],
	) {}

	get proto(): object {
		return promiseProto();
	}

	get(prop: PropertyKey): unknown {
		if (isSettler(prop) && !this.#forwarded) return (...args: unknown[]) => this.#settler(prop, args);
		this.#forwarded = true;
		return forwardGet(this, prop);
	}

	apply(args: unknown[]): unknown {
		this.#forwarded = true;
		return this.batch.later(this, (real) => Reflect.apply(real, undefined, args));
	}

	has(prop: PropertyKey): boolean {
		if (typeof prop === 'string') return true;
		this.#forwarded = true;
		return this.batch.direct ? Reflect.has(this.real(), prop) : false;
	}

	real(): Real {
		return this.real_ ?? this.batch.realOf(this);
	}

	#settler(method: Settler, args: unknown[]): unknown {
		if (!this.#forwarded && !this.batch.upgraded) {
			if (this.deferred) return (this.deferred.promise[method] as (...a: unknown[]) => unknown)(...args);
			if (this.batch.recording) {
				this.deferred = Promise.withResolvers();
				this.batch.pulled(this);
				return (this.deferred.promise[method] as (...a: unknown[]) => unknown)(...args);
			}
		}
		this.#forwarded = true;
		return this.batch.settle(this, method, args);
	}
}

/**
 * Something the application did to a stand-in that only capnweb can do, before capnweb loaded:
 * `op` on what `from` stands for, done once it has (in order with everything else the batch did;
 * {@link RecordedBatch.later}). Stands for what `op` returns.
 */
class PendingNode implements Node {
	#done = false;
	#real: Real | undefined;

	constructor(
		readonly batch: RecordedBatch,
		readonly from: Node,
		readonly op: (real: Real) => unknown,
		/** Whose property this is: called, it runs on that (`rpc.dup()`, as JavaScript would). */
		readonly of: Node | undefined,
	) {}

	get proto(): object {
		return promiseProto();
	}

	get(prop: PropertyKey): unknown {
		return forwardGet(this, prop);
	}

	apply(args: unknown[]): unknown {
		return this.batch.later(this, (real) => Reflect.apply(real, this.of?.real(), args));
	}

	has(prop: PropertyKey): boolean {
		return typeof prop === 'string' || (this.batch.direct ? Reflect.has(this.real(), prop) : false);
	}

	real(): Real {
		if (!this.#done) this.batch.catchUp();
		return this.#real!;
	}

	/**
	 * Does `op`, now that capnweb is here. What it throws (capnweb refusing an argument it cannot
	 * send, say), thrown at the application had capnweb been there, rejects what this stands for.
	 */
	run(): void {
		try {
			this.#real = this.op(this.from.real()) as Real;
		} catch (error) {
			this.#real = this.batch.rejectedReal(error);
		}
		this.#done = true;
	}

	fail(): void {}
}

/** `then`, `catch` or `finally` on a stand-in before capnweb loaded: settles once it has. */
class PendingSettle {
	readonly deferred = Promise.withResolvers<unknown>();
	constructor(readonly node: Node) {
		this.deferred.promise.catch(() => {});
	}

	run(): void {
		try {
			const real = this.node.real();
			// A stub (not a promise) has no `then`: awaiting it gives the stub.
			if (typeof real?.then === 'function') (real.then as (a: unknown, b: unknown) => unknown)(this.deferred.resolve, this.deferred.reject);
			else this.deferred.resolve(real);
		} catch (error) {
			this.deferred.reject(error);
		}
	}

	fail(error: unknown): void {
		this.deferred.reject(error);
	}
}

type Step = PendingNode | PendingSettle;

/**
 * Reads the room's answer to one plain call, as the session would have: `ok` and the value it
 * resolves or rejects with; `undefined` when only a session can read it (anything but one resolve or
 * reject of the call, a value that is not data, a message past capnweb's size limit).
 */
function readAnswer(replies: readonly string[]): { ok: boolean; value: unknown } | undefined {
	if (replies.length !== 1) return undefined;
	const line = replies[0]!;
	const ok = line.startsWith(RESOLVE_FIRST);
	if (!ok && !line.startsWith(REJECT_FIRST)) return undefined;
	if (line.length > LIMITS.maxMessageSize || line.charCodeAt(line.length - 1) !== 93 /* ] */) return undefined;
	try {
		// Any JSON value between the prefix and the last `]` makes the line a 3-element array.
		return { ok, value: evaluate(line.slice(ok ? RESOLVE_FIRST.length : REJECT_FIRST.length, -1)) };
	} catch {
		return undefined;
	}
}

/** What capnweb's `deliverResolve` gives a resolved object: a disposer (nothing to dispose here). */
function delivered(value: unknown): unknown {
	if (value instanceof Object && !(Symbol.dispose in value)) {
		Object.defineProperty(value, Symbol.dispose, { value: disposeNothing, writable: true, enumerable: false, configurable: true });
	}
	return value;
}
const disposeNothing = (): void => {};

function rejected(error: unknown): Promise<never> {
	const promise = Promise.reject(error);
	promise.catch(() => {});
	return promise;
}

/** A capnweb session standing in for the batch, with the replay of what was recorded. */
interface Upgrade {
	transport: BatchingTransport;
	main: Real;
}

/**
 * One batch: the calls made in one macrotask. Leaves at the end of it (`ended` runs then, so later
 * calls start a new batch), as the one plain call or through a session.
 *
 * A session needs capnweb, which the browser loads on demand (`sessions.ts`). Until it is there,
 * what only a session can do is kept as {@link Step}s: stand-ins for the results, done in order
 * once capnweb arrives; a batch that needs a session then leaves when it has (batches made after it
 * wait their turn, `order`), and fails whole, every call rejecting with the loader's error, if it
 * cannot be loaded.
 */
export class RecordedBatch {
	/** The room's API for this batch (`rpc`). */
	readonly main: unknown = standIn(new MainNode(this));
	readonly #send: SendBatch;
	readonly #order: LeavingOrder;
	/**
	 * Whether the one plain call may leave as it is (`false`: every batch through a session; calls
	 * are still recorded until capnweb is there, so they send what they would have when made).
	 */
	readonly #plain: boolean;
	/**
	 * What the application did, in order: each call once when made, and again when its result was
	 * asked for (a `pull` message). Replayed as it is onto a session.
	 */
	#ops: CallNode[] = [];
	/** What was done before capnweb loaded that only a session can do (after every op), and how many ran. */
	#steps: Step[] = [];
	#ran = 0;
	#running = false;
	#loading = false;
	/** How many steps came before the batch left (those after it send nothing). */
	#leftAt = Infinity;
	/** The frame's messages, once taken while the batch waited for capnweb. */
	#messages: string[] | undefined;
	#phase: 'open' | 'waiting' | 'sent' | 'done' = 'open';
	/** Something only a session can do was asked for. */
	#needsSession = false;
	#upgrade: Upgrade | null = null;
	/** capnweb could not be loaded: why every use of this batch fails. */
	#failure: { error: unknown } | undefined;
	/** Once done without a session: why the batch's session would have ended. */
	#ending: unknown = kit.BATCH_ENDED;
	#endedMain: Real | undefined;

	/** @param leaveAt schedules the batch's leaving: the end of this macrotask, or when a replay (`deferred-batch.ts`) is done. */
	constructor(send: SendBatch, ended: () => void, order: LeavingOrder, plain = true, leaveAt: (leave: () => void) => void = kit.afterThisMacrotask) {
		this.#send = send;
		this.#order = order;
		this.#plain = plain;
		leaveAt(() => {
			ended();
			this.#leave();
		});
	}

	/** Calls are still being recorded: nothing went to a session, the frame did not leave. */
	get recording(): boolean {
		return this.#phase === 'open' && !this.#needsSession && this.#upgrade === null;
	}

	/** A session took over (or will, once capnweb is loaded). */
	get upgraded(): boolean {
		return this.#upgrade !== null || this.#needsSession;
	}

	/** What only capnweb can do is done at once: it is loaded (and the batch did not fail for want of it). */
	get direct(): boolean {
		return this.#failure === undefined && kit.sessions.now() !== undefined;
	}

	record(call: CallNode): Real {
		this.#ops.push(call);
		return standIn(call);
	}

	/** The application asked for `call`'s result. */
	pulled(call: CallNode): void {
		this.#ops.push(call);
	}

	/**
	 * `op` on what `from` stands for: done now when capnweb is loaded, else a stand-in for its result,
	 * done once capnweb is (`of`: whose property the result is).
	 */
	later(from: Node, op: (real: Real) => unknown, of?: Node): unknown {
		if (this.direct) {
			this.catchUp();
			return op(from.real());
		}
		const pending = new PendingNode(this, from, op, of);
		this.#wait(pending);
		return standIn(pending);
	}

	/** `then`, `catch` or `finally` on what `node` stands for, forwarded to capnweb (or once it is there). */
	settle(node: Node, method: Settler, args: unknown[]): unknown {
		if (this.direct) {
			this.catchUp();
			const real = node.real();
			return (real[method] as (...a: unknown[]) => unknown).apply(real, args);
		}
		const step = new PendingSettle(node);
		this.#wait(step);
		const { promise } = step.deferred;
		return (promise[method] as (...a: unknown[]) => unknown).apply(promise, args);
	}

	/** A capnweb promise rejecting with `error` (what a failed step stands for). */
	rejectedReal(error: unknown): Real {
		return this.#sessions().localPromise(rejected(error)) as Real;
	}

	/** Keeps `step` for when capnweb is here, and has it loaded. */
	#wait(step: Step): void {
		this.#steps.push(step);
		this.#needsSession = true;
		if (this.#failure) return step.fail(this.#failure.error);
		if (this.#loading) return;
		this.#loading = true;
		kit.sessions.load().then(
			() => this.catchUp(),
			(error: unknown) => this.#fail(error),
		);
	}

	/** capnweb is here: does what waited for it, in order (a batch waiting to leave takes its frame). */
	catchUp(): void {
		if (this.#running || !this.direct) return;
		if (this.#phase === 'waiting') this.#takeFrame();
		else if (this.#ran < this.#steps.length) this.#runSteps(Infinity);
	}

	/** Runs the steps not run yet, up to the `until`-th; steps may use stand-ins, whose `real()` must not run steps again. */
	#runSteps(until: number): void {
		const running = this.#running;
		this.#running = true;
		try {
			while (this.#ran < Math.min(until, this.#steps.length)) this.#steps[this.#ran++]!.run();
		} finally {
			this.#running = running;
		}
	}

	/** The batch, waiting for capnweb to leave, takes its frame: what came before it left, then the rest. */
	#takeFrame(): void {
		if (this.#messages) return;
		this.#running = true;
		try {
			const { transport } = this.#upgraded();
			this.#runSteps(this.#leftAt);
			this.#messages = transport.take();
			this.#runSteps(Infinity);
		} finally {
			this.#running = false;
		}
	}

	/**
	 * capnweb could not be loaded: every call of the batch, and every later use of it, fails with
	 * `error` (a call whose frame left fails only if its answer needs a session: `answering`).
	 */
	#fail(error: unknown, answering?: PromiseWithResolvers<unknown>): void {
		this.#failure ??= { error };
		this.#ending = error;
		for (const step of this.#steps.slice(this.#ran)) step.fail(error);
		this.#ran = this.#steps.length;
		if (answering) {
			this.#phase = 'done';
			return answering.reject(error);
		}
		if (this.#phase === 'sent' || this.#phase === 'done') return;
		for (const call of this.#ops) call.deferred?.reject(error);
		if (this.#phase === 'waiting') this.#phase = 'done';
	}

	/** capnweb's main stub for this batch. */
	realMain(): Real {
		this.catchUp();
		if (this.#upgrade) return this.#upgrade.main;
		// Answered without a session: the session has ended, and its main stub fails every call.
		if (this.#phase === 'done') return (this.#endedMain ??= this.#sessions().localPromise(rejected(this.#ending)) as Real);
		return this.#upgraded().main;
	}

	/** capnweb's promise for `call`. */
	realOf(call: CallNode): Real {
		this.catchUp();
		if (!call.real_ && this.#phase === 'done' && !this.#upgrade) {
			// Settled without a session: a local promise of the same outcome (pipelining on it reads
			// the value, as on a resolved import).
			call.real_ = this.#sessions().localPromise(call.deferred ? call.deferred.promise : rejected(this.#ending)) as Real;
		}
		if (!call.real_) this.#upgraded();
		return call.real_!;
	}

	#sessions(): Sessions {
		const sessions = kit.sessions.now();
		if (!sessions || this.#failure) throw this.#failure ? this.#failure.error : new Error('capnweb is not loaded');
		return sessions;
	}

	/** Replays what was recorded onto a fresh session; from then on it carries the batch. */
	#upgraded(): Upgrade {
		if (this.#upgrade) return this.#upgrade;
		const sessions = this.#sessions();
		const transport = new sessions.BatchingTransport(this.#phase === 'sent' || this.#phase === 'done');
		const main = sessions.sessionMain(transport) as Real;
		const upgrade: Upgrade = { transport, main };
		this.#upgrade = upgrade;
		for (const call of this.#ops) {
			if (call.real_) {
				// The second time: its result was asked for here.
				const deferred = call.deferred!;
				(call.real_.then as (a: unknown, b: unknown) => unknown)(deferred.resolve, deferred.reject);
				continue;
			}
			const { method, args } = readPlainCall(call.line) ?? { method: methodOf(call.line), args: call.args };
			const at = transport.collected;
			call.real_ = (main[method] as (...a: unknown[]) => Real)(...args);
			// The frame carries what the call sent when it was made, whatever became of its arguments.
			transport.rewrite(at, call.line);
		}
		return upgrade;
	}

	/** The end of the macrotask: the batch leaves. */
	#leave(): void {
		const ops = this.#ops;
		let messages: string[];
		if (this.#failure) {
			this.#phase = 'done';
			return;
		}
		if (this.#upgrade) {
			this.#runSteps(Infinity);
			messages = this.#upgrade.transport.take();
		} else if (this.#plain && !this.#needsSession && ops.length === 2 && ops[0] === ops[1]) messages = [ops[0]!.line, PULL_FIRST];
		// One call nobody awaited: the call alone, which the room answers with no frame.
		else if (this.#plain && !this.#needsSession && ops.length === 1) messages = [ops[0]!.line];
		else if (!this.#needsSession && ops.length === 0) {
			// Nothing was called: nothing to send, and the session would just end.
			this.#phase = 'done';
			return;
		} else if (this.direct) {
			const { transport } = this.#upgraded();
			this.#runSteps(Infinity);
			messages = transport.take();
		} else {
			// capnweb is on its way: the batch leaves once it is here, and later batches after it.
			this.#phase = 'waiting';
			this.#leftAt = this.#steps.length;
			this.#needsSession = true;
			return this.#order.leave(() =>
				kit.sessions.load().then(
					() => this.#leaveNow(),
					(error: unknown) => this.#fail(error),
				),
			);
		}
		this.#phase = 'sent';
		this.#order.leave(() => kit.deliver(this.#send, messages, (answer) => this.#arrived(answer)));
	}

	/** capnweb arrived for a batch waiting to leave: it leaves. */
	#leaveNow(): void {
		if (this.#failure) return;
		this.#takeFrame();
		this.#phase = 'sent';
		kit.deliver(this.#send, this.#messages!, (answer) => this.#arrived(answer));
	}

	#arrived(answer: Answer): void {
		this.catchUp();
		if (this.#ran < this.#steps.length) {
			// Something was done to the batch's stand-ins after it left, waiting for capnweb: it is done
			// first, as it was before the answer came (then capnweb reads it), or fails first.
			kit.sessions.load().then(
				() => this.#readWithSession(answer),
				() => this.#arrived(answer),
			);
			return;
		}
		if (this.#upgrade) {
			this.#phase = 'done';
			return this.#upgrade.transport.arrived(answer);
		}
		const call = this.#ops[0]!;
		const deferred = call.deferred;
		if (!deferred) {
			// Its result was not asked for before it left: a later `then` finds the batch ended.
			this.#phase = 'done';
			if ('failure' in answer) this.#ending = answer.failure;
			return;
		}
		if ('failure' in answer) {
			this.#phase = 'done';
			this.#ending = answer.failure;
			return deferred.reject(answer.failure);
		}
		const outcome = readAnswer(answer.replies);
		if (!outcome) {
			// Not plain: a session replays the call (its messages go nowhere) and reads the answer.
			if (this.direct) return this.#readWithSession(answer);
			if (this.#failure) return this.#fail(this.#failure.error, deferred);
			kit.sessions.load().then(
				() => this.#readWithSession(answer),
				(error: unknown) => this.#fail(error, deferred),
			);
			return;
		}
		this.#phase = 'done';
		if (outcome.ok) deferred.resolve(delivered(outcome.value));
		else deferred.reject(kit.fromRoom(outcome.value));
	}

	#readWithSession(answer: Answer): void {
		const { transport } = this.#upgraded();
		this.#runSteps(Infinity);
		this.#phase = 'done';
		transport.arrived(answer);
	}
}

/** The method name in a recorded `push` line (only needed when `readPlainCall` cannot read it back). */
function methodOf(line: string): string {
	return (JSON.parse(line) as [string, [string, number, [string]]])[1][2][0];
}
