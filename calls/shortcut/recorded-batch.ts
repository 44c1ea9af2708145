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
 * the frame has left). `tests/rpc/client-calls.test.ts` compares frames and outcomes with sessions.
 *
 * The stand-ins are Proxies shaped like capnweb's (a function target; `RpcStub`/`RpcPromise`
 * prototypes), so capnweb recognizes them when they are passed back into a call: it then asks for
 * their internal symbol, which upgrades their batch and hands capnweb the real stub.
 */
import { DEFAULT_LIMITS, RpcPromise, RpcSession, RpcStub } from 'capnweb';
import { evaluate, plainCall, PULL_FIRST, readPlainCall, REJECT_FIRST, RESOLVE_FIRST } from './plain.js';
import { fromRoom } from '../../rpc/errors.js';
import { afterThisMacrotask, BATCH_ENDED, BatchingTransport, deliver, NOTHING_TO_CALL, withRoomErrors, type Answer, type SendBatch } from '../session-batch.js';

/** A capnweb stub or RpcPromise as the stand-ins use it: a callable Proxy with any property. */
type Real = ((...args: unknown[]) => unknown) & { [key: PropertyKey]: unknown };

/** The `then`, `catch` and `finally` every stand-in for a call result answers itself while it can. */
type Settler = 'then' | 'catch' | 'finally';

/** What one stand-in is: the room's API, one of its methods, or a call's result. */
interface Node {
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
 * The hot traps go to the node; every other one is the real stub's business (capnweb's own Proxy
 * refuses most of them).
 */
const HANDLER: ProxyHandler<Target> = {
	get: (t, prop) => t.node.get(prop),
	apply: (t, _this, args) => t.node.apply(args),
	has: (t, prop) => t.node.has(prop),
	getPrototypeOf: (t) => t.node.proto,
	construct: (t, args) => Reflect.construct(t.node.real(), args),
	defineProperty: (t, prop, attributes) => Reflect.defineProperty(t.node.real(), prop, attributes),
	deleteProperty: (t, prop) => Reflect.deleteProperty(t.node.real(), prop),
	getOwnPropertyDescriptor: (t, prop) => Reflect.getOwnPropertyDescriptor(t.node.real(), prop),
	isExtensible: (t) => Reflect.isExtensible(t.node.real()),
	ownKeys: (t) => Reflect.ownKeys(t.node.real()),
	preventExtensions: (t) => Reflect.preventExtensions(t.node.real()),
	set: (t, prop, value) => Reflect.set(t.node.real(), prop, value),
	setPrototypeOf: (t, proto) => Reflect.setPrototypeOf(t.node.real(), proto),
};

function standIn(node: Node): Real {
	// An arrow function, as capnweb's: callable, and without a `prototype` of its own.
	const target = (() => {}) as Target;
	target.node = node;
	return new Proxy(target, HANDLER) as unknown as Real;
}

const STUB_PROTO: Record<string, unknown> = RpcStub.prototype as unknown as Record<string, unknown>;
const PROMISE_PROTO: object = RpcPromise.prototype;

/** The room's API (`rpc`): as capnweb's main stub, every other name is a method. */
class MainNode implements Node {
	readonly proto = STUB_PROTO;
	constructor(readonly batch: RecordedBatch) {}

	get(prop: PropertyKey): unknown {
		if (typeof prop === 'string') {
			// As capnweb: names a promise has are read from the stub itself (`then` is undefined).
			if (prop in PROMISE_PROTO) return prop === '__proto__' ? STUB_PROTO : STUB_PROTO[prop];
			if (this.batch.recording) return standIn(new MemberNode(this.batch, prop));
		}
		return this.batch.realMain()[prop];
	}

	apply(args: unknown[]): unknown {
		return Reflect.apply(this.batch.realMain(), undefined, args);
	}

	has(prop: PropertyKey): boolean {
		if (typeof prop === 'string') return prop in PROMISE_PROTO ? prop in STUB_PROTO : true;
		return Reflect.has(this.batch.realMain(), prop);
	}

	real(): Real {
		return this.batch.realMain();
	}
}

/** `rpc.<name>`: calling it with plain data is recorded; anything else is capnweb's. */
class MemberNode implements Node {
	readonly proto = PROMISE_PROTO;
	#real: Real | undefined;
	constructor(
		readonly batch: RecordedBatch,
		readonly name: string,
	) {}

	get(prop: PropertyKey): unknown {
		return this.real()[prop];
	}

	apply(args: unknown[]): unknown {
		if (this.batch.recording) {
			const line = plainCall(this.name, args);
			if (line !== undefined) return this.batch.record(new CallNode(this.batch, line, args));
		}
		return Reflect.apply(this.real(), undefined, args);
	}

	has(prop: PropertyKey): boolean {
		return typeof prop === 'string' || Reflect.has(this.real(), prop);
	}

	real(): Real {
		// One real promise per stand-in, as one capnweb RpcPromise per `rpc.<name>`.
		return (this.#real ??= this.batch.realMain()[this.name] as Real);
	}
}

/** The result of a recorded call. */
class CallNode implements Node {
	readonly proto = PROMISE_PROTO;
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

	get(prop: PropertyKey): unknown {
		if ((prop === 'then' || prop === 'catch' || prop === 'finally') && !this.#forwarded) {
			return (...args: unknown[]) => this.#settler(prop, args);
		}
		this.#forwarded = true;
		return this.real()[prop];
	}

	apply(args: unknown[]): unknown {
		this.#forwarded = true;
		return Reflect.apply(this.real(), undefined, args);
	}

	has(prop: PropertyKey): boolean {
		if (typeof prop === 'string') return true;
		this.#forwarded = true;
		return Reflect.has(this.real(), prop);
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
		const real = this.real();
		return (real[method] as (...a: unknown[]) => unknown).apply(real, args);
	}
}


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
	if (line.length > DEFAULT_LIMITS.maxMessageSize || line.charCodeAt(line.length - 1) !== 93 /* ] */) return undefined;
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
 */
export class RecordedBatch {
	/** The room's API for this batch (`rpc`). */
	readonly main: unknown = standIn(new MainNode(this));
	readonly #send: SendBatch;
	/**
	 * What the application did, in order: each call once when made, and again when its result was
	 * asked for (a `pull` message). Replayed as it is onto a session.
	 */
	#ops: CallNode[] = [];
	#phase: 'open' | 'sent' | 'done' = 'open';
	#upgrade: Upgrade | null = null;
	/** Once done without a session: why the batch's session would have ended. */
	#ending: unknown = BATCH_ENDED;
	#endedMain: Real | undefined;

	constructor(send: SendBatch, ended: () => void) {
		this.#send = send;
		afterThisMacrotask(() => {
			ended();
			this.#leave();
		});
	}

	/** Calls are still being recorded: nothing went to a session, the frame did not leave. */
	get recording(): boolean {
		return this.#phase === 'open' && this.#upgrade === null;
	}

	/** A session took over. */
	get upgraded(): boolean {
		return this.#upgrade !== null;
	}

	record(call: CallNode): Real {
		this.#ops.push(call);
		return standIn(call);
	}

	/** The application asked for `call`'s result. */
	pulled(call: CallNode): void {
		this.#ops.push(call);
	}

	/** capnweb's main stub for this batch. */
	realMain(): Real {
		if (this.#upgrade) return this.#upgrade.main;
		// Answered without a session: the session has ended, and its main stub fails every call.
		if (this.#phase === 'done') return (this.#endedMain ??= new RpcPromise(rejected(this.#ending)) as unknown as Real);
		return this.#upgraded().main;
	}

	/** capnweb's promise for `call`. */
	realOf(call: CallNode): Real {
		if (!call.real_ && this.#phase === 'done' && !this.#upgrade) {
			// Settled without a session: a local promise of the same outcome (pipelining on it reads
			// the value, as on a resolved import).
			call.real_ = new RpcPromise(call.deferred ? call.deferred.promise : rejected(this.#ending)) as unknown as Real;
		}
		if (!call.real_) this.#upgraded();
		return call.real_!;
	}

	/** Replays what was recorded onto a fresh session; from then on it carries the batch. */
	#upgraded(): Upgrade {
		if (this.#upgrade) return this.#upgrade;
		const transport = new BatchingTransport(this.#phase !== 'open');
		const main = withRoomErrors(new RpcSession(transport, NOTHING_TO_CALL).getRemoteMain()) as unknown as Real;
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
		if (this.#upgrade) messages = this.#upgrade.transport.take();
		else if (ops.length === 2 && ops[0] === ops[1]) messages = [ops[0]!.line, PULL_FIRST];
		else if (ops.length === 0) {
			// Nothing was called: nothing to send, and the session would just end.
			this.#phase = 'done';
			return;
		} else messages = this.#upgraded().transport.take();
		this.#phase = 'sent';
		deliver(this.#send, messages, (answer) => this.#arrived(answer));
	}

	#arrived(answer: Answer): void {
		if (this.#upgrade) {
			this.#phase = 'done';
			return this.#upgrade.transport.arrived(answer);
		}
		const call = this.#ops[0]!;
		const deferred = call.deferred!;
		if ('failure' in answer) {
			this.#phase = 'done';
			this.#ending = answer.failure;
			return deferred.reject(answer.failure);
		}
		const outcome = readAnswer(answer.replies);
		if (!outcome) {
			// Not plain: a session replays the call (its messages go nowhere) and reads the answer.
			const { transport } = this.#upgraded();
			this.#phase = 'done';
			return transport.arrived(answer);
		}
		this.#phase = 'done';
		if (outcome.ok) deferred.resolve(delivered(outcome.value));
		else deferred.reject(fromRoom(outcome.value));
	}
}

/** The method name in a recorded `push` line (only needed when `readPlainCall` cannot read it back). */
function methodOf(line: string): string {
	return (JSON.parse(line) as [string, [string, number, [string]]])[1][2][0];
}
