/**
 * The call recorder off the first load. The recorder (`shortcut/recorded-batch.ts`, with the
 * capnweb value encoding it reads and writes, `shortcut/wire-value.ts` and `shortcut/plain.ts`) is
 * a chunk of its own (a dynamic `import()`), prefetched once the client is connected. Until it is
 * there, a batch is a {@link DeferredBatch}: it keeps what the application does to `rpc` as a log,
 * and
 *
 * - the batch nearly every tick makes, one call with JSON arguments (`await rpc.method(data)`, or
 *   the call alone, not awaited), leaves as it is: the same line or two the recorder would send,
 *   and an answer that is JSON settles the call. The recorder is never needed for it;
 * - anything else (pipelining, several calls, other arguments, another answer) is replayed, in the
 *   order it was done, onto a recorded batch once the chunk is there, which then carries it as it
 *   would have (the frame it sends is the one it would have sent; an answer that came already is
 *   handed to it). Such a batch leaves when the chunk is there, and the batches made after it wait
 *   their turn (`LeavingOrder`); if the chunk cannot be loaded, its calls reject with a `RoomError`
 *   of code `calls_unavailable`.
 *
 * The stand-ins are Proxies of a function, as the recorder's: a call's result answers `then`,
 * `catch` and `finally` with real promises; every other use of a stand-in returns a stand-in for
 * its result, replayed on the recorder's. Reflection on a stand-in before the chunk arrives
 * (`Object.keys`, assigning a property) sees a bare function.
 */
import { afterThisMacrotask, BATCH_KIT, deliver, LeavingOrder, type Answer, type SendBatch } from './batch-delivery.js';
import { lazyChunk } from './lazy-chunk.js';
import { sessionChunk } from './sessions.js';
import type * as RecorderKit from './shortcut/recorded-batch.js';

/** The call recorder (`shortcut/recorded-batch.ts`): prefetched once connected; a load that fails rejects with `calls_unavailable`. */
export const recorderChunk = lazyChunk(
	() => import('./shortcut/recorded-batch.js').then((kit) => (kit.useKit({ ...BATCH_KIT, sessions: sessionChunk }), kit)),
	'calls_unavailable',
	'This call needs the call recorder (pipelining, several calls, non-JSON values), and its code could not be loaded',
);

/** One thing done to a stand-in: read `get`, call with `args`, or ask for the call's result (`pull`). */
interface Op {
	from: number;
	get?: PropertyKey;
	args?: unknown[];
	pull?: PromiseWithResolvers<unknown>;
}

type Target = (() => void) & { batch: DeferredBatch; at: number };

const SETTLERS = new Set<PropertyKey>(['then', 'catch', 'finally']);
/** Names capnweb's stubs answer themselves (with `Object.prototype`'s): never a plain call. */
const STUB_OWN = new Set<PropertyKey>([...SETTLERS, 'dup', 'map', 'onRpcBroken']);
/** A method name a plain call line holds as it is. */
const PLAIN_NAME = /^[^"\\\u0000-\u001f]*$/;
const NOT_JSON = Symbol();

/** `value` as capnweb writes it when it is JSON (arrays escaped as `[[…]]`); throws NOT_JSON otherwise. */
function escaped(value: unknown, depth: number): unknown {
	if (value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && isFinite(value))) return value;
	if (depth < 64 && typeof value === 'object') {
		const proto: unknown = Object.getPrototypeOf(value);
		if (proto === Array.prototype) {
			const array = value as unknown[];
			const out: unknown[] = [];
			for (let i = 0; i < array.length; i++) out.push(escaped(array[i], depth + 1));
			return [out];
		}
		if (proto === Object.prototype) {
			const out: Record<string, unknown> = {};
			for (const key in value) out[key] = escaped((value as Record<string, unknown>)[key], depth + 1);
			return out;
		}
	}
	throw NOT_JSON;
}

/** A value capnweb wrote for JSON data (escaped arrays, no key it drops), read in place; throws NOT_JSON otherwise. */
function unescaped(value: unknown, depth: number): unknown {
	if (typeof value !== 'object' || value === null) return value;
	if (depth >= 64) throw NOT_JSON;
	if (Array.isArray(value)) {
		const inner: unknown = value[0];
		if (value.length !== 1 || !Array.isArray(inner)) throw NOT_JSON;
		for (let i = 0; i < inner.length; i++) inner[i] = unescaped(inner[i], depth + 1);
		return inner;
	}
	for (const key in value) {
		if (key in Object.prototype || key === 'toJSON') throw NOT_JSON;
		(value as Record<string, unknown>)[key] = unescaped((value as Record<string, unknown>)[key], depth + 1);
	}
	return value;
}

/** The line a session sends for `main.<method>(...args)` when the arguments are JSON, else `undefined`. */
function jsonCall(method: PropertyKey, args: unknown[]): string | undefined {
	if (typeof method !== 'string' || STUB_OWN.has(method) || method in Object.prototype || !PLAIN_NAME.test(method)) return undefined;
	try {
		return `["push",["pipeline",0,[${JSON.stringify(method)}],${JSON.stringify((escaped(args, 0) as unknown[])[0])}]]`;
	} catch (error) {
		if (error === NOT_JSON) return undefined;
		throw error;
	}
}

/** The value of the room's answer `["resolve",1,<JSON>]`, or NOT_JSON. */
function jsonAnswer(replies: string[]): unknown {
	const line = replies.length === 1 ? replies[0]! : '';
	if (!line.startsWith('["resolve",1,') || !line.endsWith(']')) return NOT_JSON;
	try {
		const value = unescaped(JSON.parse(line.slice(13, -1)), 0);
		// As capnweb delivers a resolved object: with a disposer (nothing to dispose here).
		if (value instanceof Object) Object.defineProperty(value, Symbol.dispose, { value: () => {}, writable: true, configurable: true });
		return value;
	} catch {
		return NOT_JSON;
	}
}

/** What each stand-in is: its batch and its place there. */
const TARGETS = new WeakMap<object, Target>();

const HANDLER: ProxyHandler<Target> = {
	get: (t, prop) => t.batch.get(t.at, prop),
	apply: (t, _this, args) => t.batch.apply(t.at, args),
	has: (t, prop) => (t.batch.real ? Reflect.has(t.batch.real(t.at) as object, prop) : typeof prop === 'string' || prop === Symbol.dispose),
	getPrototypeOf: (t) => (t.batch.real ? Reflect.getPrototypeOf(t.batch.real(t.at) as object) : Function.prototype),
	set: () => {
		throw new Error("Can't assign properties on RPC stubs.");
	},
};

/** What a failed load leaves: calling it or reading from it gives it again, awaiting it rejects with `error`. */
function failed(error: unknown): unknown {
	const rejected = Promise.reject(error);
	rejected.catch(() => {});
	const stub: unknown = new Proxy(() => {}, {
		get: (_, prop) => (SETTLERS.has(prop) ? (rejected[prop as 'then'] as (...a: unknown[]) => unknown).bind(rejected) : stub),
		apply: () => stub,
	});
	return stub;
}

/** A batch made before the recorder's chunk arrived (see the header). */
export class DeferredBatch {
	declare readonly main: unknown;
	readonly #send: SendBatch;
	readonly #order: LeavingOrder;
	readonly #plain: boolean;
	readonly #ops: Op[] = [];
	/** The stand-ins: `main` at 0, then one per op that gives one. */
	readonly #standIns: unknown[] = [];
	/** For each stand-in, the line of the call it is the result of (a JSON call on `main`). */
	readonly #lines = new Map<number, string>();
	/** Call results something other than `then`, `catch`, `finally` was done to: those go to the recorder too. */
	readonly #forwarded = new Set<number>();
	/** How many ops came before the answer to the call that left alone. */
	#answeredAt = Infinity;
	#open = true;
	/** How many ops came before the batch left. */
	#leftAt = Infinity;
	/** Left as the one JSON call: the room's answer to it. */
	#answer: PromiseWithResolvers<string[]> | undefined;
	#replayed: Promise<void> | undefined;
	/** The recorder's counterpart of each stand-in, once replayed. */
	real: ((at: number) => unknown) | undefined;

	constructor(send: SendBatch, ended: () => void, order: LeavingOrder, plain: boolean) {
		this.#send = send;
		this.#order = order;
		this.#plain = plain;
		this.main = this.#standIn(0);
		afterThisMacrotask(() => {
			ended();
			this.#leave();
		});
	}

	#standIn(at: number): unknown {
		const target = (() => {}) as Target;
		target.batch = this;
		target.at = at;
		const standIn = new Proxy(target, HANDLER);
		TARGETS.set(standIn, target);
		return (this.#standIns[at] = standIn);
	}

	#log(op: Op): unknown {
		this.#ops.push(op);
		this.#forwarded.add(op.from);
		// Left alone, the batch has nothing else coming: what is done to it now is the recorder's.
		if (this.#answer) void this.#replay();
		return this.#standIn(this.#ops.length);
	}

	get(at: number, prop: PropertyKey): unknown {
		if (this.real) return (this.real(at) as Record<PropertyKey, unknown>)[prop];
		// As capnweb's stubs: the room's API is not a promise, and no symbol but `Symbol.dispose` is theirs.
		if (at === 0 && SETTLERS.has(prop)) return undefined;
		if (typeof prop === 'symbol' && prop !== Symbol.dispose) return undefined;
		if (this.#lines.has(at) && SETTLERS.has(prop) && !this.#forwarded.has(at)) {
			return (...args: unknown[]) => {
				let pull = this.#ops.find((op) => op.from === at && op.pull)?.pull;
				if (!pull) {
					// Asked for after the batch left without it: the recorder's business.
					if (!this.#open) return this.apply(this.#ops.push({ from: at, get: prop }), args);
					pull = Promise.withResolvers<unknown>();
					pull.promise.catch(() => {});
					this.#ops.push({ from: at, pull });
				}
				return (pull.promise[prop as 'then'] as (...a: unknown[]) => unknown)(...args);
			};
		}
		return this.#log({ from: at, get: prop });
	}

	apply(at: number, args: unknown[]): unknown {
		if (this.real) return Reflect.apply(this.real(at) as (...a: unknown[]) => unknown, undefined, args);
		const op = this.#ops[at - 1];
		const line = this.#open && op?.from === 0 && op.get !== undefined ? jsonCall(op.get, args) : undefined;
		// The call sends its arguments as they were when it was made: a JSON copy of them is replayed.
		const standIn = this.#log({ from: at, args: line === undefined ? args : (JSON.parse(JSON.stringify(args)) as unknown[]) });
		if (line !== undefined) this.#lines.set(this.#ops.length, line);
		return standIn;
	}

	/** The end of the macrotask: the one JSON call leaves as it is, anything else once the recorder is here. */
	#leave(): void {
		this.#open = false;
		const ops = this.#ops;
		this.#leftAt = ops.length;
		const line = this.#lines.get(2);
		const pull = ops[2]?.pull;
		if (this.#plain && line !== undefined && (ops.length === 2 || (ops.length === 3 && pull))) {
			const answer = (this.#answer = Promise.withResolvers());
			answer.promise.catch(() => {});
			return this.#order.leave(() =>
				deliver(this.#send, pull ? [line, '["pull",1]'] : [line], (outcome) => {
					this.#answeredAt = this.#ops.length;
					if ('replies' in outcome) answer.resolve(outcome.replies);
					else answer.reject(outcome.failure);
					if (!pull || this.#replayed) return;
					const value = 'replies' in outcome ? jsonAnswer(outcome.replies) : NOT_JSON;
					if (value !== NOT_JSON) pull.resolve(value);
					else if ('failure' in outcome) pull.reject(outcome.failure);
					else void this.#replay();
				}),
			);
		}
		if (ops.length > 0) this.#order.leave(() => this.#replay());
	}

	/** Loads the recorder and does, in order, what was done to this batch; resolves once its batch left. */
	#replay(): Promise<void> {
		return (this.#replayed ??= recorderChunk.load().then(
			(kit) => {
				const inner = new LeavingOrder();
				const answer = this.#answer;
				let leave!: () => void;
				const batch = new kit.RecordedBatch(
					answer ? () => answer.promise : this.#send,
					() => {},
					inner,
					this.#plain,
					(run) => (leave = run),
				);
				// What was done after the answer came is done after the recorder has read it (it reads it
				// in a reaction registered when the batch left; this one comes after it).
				const read = () =>
					answer!.promise.then(
						() => {},
						() => {},
					);
				return this.#run([batch.main], () => leave(), read).then(() => inner.idle);
			},
			(error: unknown) => {
				return this.#run([failed(error)], () => {});
			},
		));
	}

	/** Does the ops on the recorder's stand-ins (`reals`, from `main`'s), the batch leaving where it did. */
	async #run(reals: unknown[], leave: () => void, read?: () => Promise<void>): Promise<void> {
		const realOf = (value: unknown): unknown => {
			const target = TARGETS.get(value as object);
			if (target) return target.batch === this ? reals[target.at] : (target.batch.real?.(target.at) ?? value);
			if (Array.isArray(value)) return value.map(realOf);
			if (value && Object.getPrototypeOf(value) === Object.prototype) {
				const out: Record<string, unknown> = {};
				for (const key in value) out[key] = realOf((value as Record<string, unknown>)[key]);
				return out;
			}
			return value;
		};
		// Uses of the stand-ins made meanwhile joined the log: they are done too, in order.
		for (let i = 0; i < this.#ops.length; i++) {
			if (i === this.#leftAt) leave();
			if (i === this.#answeredAt && read) await read();
			const op = this.#ops[i]!;
			const from = (reals[op.from] ?? reals[0]) as Record<PropertyKey, unknown>;
			try {
				if (op.pull) (from.then as (a: unknown, b: unknown) => unknown).call(from, op.pull.resolve, op.pull.reject);
				else if (!op.args) reals[i + 1] = from[op.get!];
				else {
					// A method read from something (`promise.then`) runs on it.
					const of = this.#ops[op.from - 1];
					const self = of && !of.args && !of.pull ? reals[of.from] : undefined;
					reals[i + 1] = Reflect.apply(from as unknown as (...a: unknown[]) => unknown, self, op.args.map(realOf));
				}
			} catch (error) {
				// Thrown at the application had the recorder been there: what it stands for fails with it.
				reals[i + 1] = failed(error);
				op.pull?.reject(error);
			}
		}
		if (this.#leftAt >= this.#ops.length) leave();
		this.real = (at) => reals[at] ?? reals[0];
	}
}
