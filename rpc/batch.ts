/**
 * capnweb over a hibernating socket: one self-contained batch per frame.
 *
 * A persistent capnweb session would live in the room's memory and die with eviction, so instead
 * each frame carries a whole batch, the way capnweb's HTTP batch transport does. The client gathers
 * the calls made in one macrotask (so pipelined calls share the frame), sends them with a
 * correlation id, and the room answers them all in one frame. Nothing about a call outlives its
 * frame.
 */
import { RpcPromise, RpcSession, type RpcSessionOptions, type RpcTransport, type RpcTransportWithCustomEncoding } from 'capnweb';
import { CallTimeout, ConnectionLost, RoomError } from './errors.js';
import { callFrame } from './frame.js';
import type { EncodedPayload } from './payload.js';
import { plainError, plainMethod, plainPush, plainValue, PULL_FIRST, readPlainCall, REJECT_FIRST, RESOLVE_FIRST, type PlainCall } from './plain.js';
import { RecordedBatch } from './recorded-batch.js';
import { sessionBatch, type SendBatch } from './session-batch.js';

// ---------------------------------------------------------------------------------------------
// Room side

/**
 * The room end of one batch. It is handed messages already parsed (the room parses once, to check
 * them before running anything), and hands back serialized replies.
 */
class AnsweringTransport implements RpcTransportWithCustomEncoding {
	readonly encodingLevel = 'jsonCompatible' as const;
	readonly replies: string[] = [];
	#incoming: readonly unknown[];
	#next = 0;
	#allReceived = Promise.withResolvers<void>();

	constructor(incoming: readonly unknown[]) {
		this.#incoming = incoming;
	}

	send(message: unknown): void {
		this.replies.push(JSON.stringify(message));
	}

	receive(): Promise<unknown> {
		if (this.#next < this.#incoming.length) return Promise.resolve(this.#incoming[this.#next++]);
		this.#allReceived.resolve();
		// The batch is over: nothing else will ever arrive on this session.
		return new Promise(() => {});
	}

	abort(reason: unknown): void {
		this.#allReceived.reject(reason);
	}

	get allReceived(): Promise<void> {
		return this.#allReceived.promise;
	}
}

/**
 * A call frame's body as the room read it to check it before anything runs: its lines, and either
 * the one plain call nearly every batch is, or every message parsed.
 */
export interface CallBatch {
	lines: readonly string[];
	/** The batch is exactly one plain call and the pull of its result (see {@link singleCall}). */
	single?: PlainCall;
	/** Every line parsed; may be left out when `single` is there. */
	messages?: readonly unknown[];
}

/**
 * The batch `rpc.method(data)` sends — one plain call (see `plain.ts`), then the pull of its result
 * — read from its text, arguments evaluated; `undefined` for any other batch.
 */
export function singleCall(lines: readonly string[]): PlainCall | undefined {
	return lines.length === 2 && lines[1] === PULL_FIRST ? readPlainCall(lines[0]!) : undefined;
}

/**
 * Runs one batch against `main` and returns the reply messages once every call has settled.
 *
 * A single plain call is answered without a session: the method runs once, and only when its
 * outcome is something `serialize` cannot write as a session would (a stub, an RpcTarget, an Error
 * inside a result) does a session write the reply, from the outcome already in hand.
 */
export async function answerBatch(batch: CallBatch, main: object, options: RpcSessionOptions = {}): Promise<string[]> {
	const call = batch.single;
	// Custom limits would change how a session evaluates the arguments: leave those to it.
	const method = call && options.limits === undefined ? plainMethod(main, call.method) : undefined;
	if (!call || !method) return answerWithSession(messagesOf(batch), main, options);

	let outcome: Outcome;
	try {
		const result = method.apply(main, call.args);
		// As capnweb's deliverCall: an RpcPromise is passed on as it is, anything else awaited.
		outcome = { ok: true, value: result instanceof RpcPromise ? result : await result };
	} catch (error) {
		outcome = { ok: false, error };
	}

	// The answer as the one plain message a session would send; else a session writes it from the
	// outcome in hand. A session calls onSendError once for a thrown Error; so do we, and hand a
	// replaying session the same answer instead of asking twice (it may log).
	let json: string | undefined;
	let sessionOptions = options;
	if (outcome.ok) json = plainValue(outcome.value);
	else if (!(outcome.error instanceof Error)) json = plainValue(outcome.error);
	else {
		const { error } = outcome;
		const rewritten = options.onSendError?.(error) || undefined;
		json = plainError(rewritten ?? error, rewritten !== undefined);
		sessionOptions = { ...options, onSendError: (e: Error) => (e === error ? rewritten : options.onSendError?.(e)) };
	}
	if (json !== undefined) return [`${outcome.ok ? RESOLVE_FIRST : REJECT_FIRST}${json}]`];
	return answerWithSession(messagesOf(batch), replay(call.method, outcome), sessionOptions);
}

function messagesOf(batch: CallBatch): readonly unknown[] {
	return batch.messages ?? batch.lines.map((line) => JSON.parse(line) as unknown);
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** A main object whose `method` hands back what the real one already did, for a session to encode. */
function replay(method: string, outcome: Outcome): object {
	return {
		[method]: () => {
			if (outcome.ok) return outcome.value;
			throw outcome.error;
		},
	};
}

/** Runs one batch through a capnweb session: any batch, and the reference `answerBatch` must equal. */
export async function answerWithSession(messages: readonly unknown[], main: object, options?: RpcSessionOptions): Promise<string[]> {
	const transport = new AnsweringTransport(messages);
	const session = new RpcSession(transport, main, options);
	await transport.allReceived;
	await session.drain();
	return transport.replies;
}

/**
 * The room's `onSendError`: errors leave the room with a stable `code` and without a stack (capnweb
 * sends the stack of an error this returns; the room's file paths are not the caller's business).
 * Anything that is not a `RoomError` is logged here.
 */
export function toWireError(error: Error): Error {
	let wire = error;
	if (!(error instanceof RoomError)) {
		console.error('A room method threw', error);
		wire = new RoomError('method_failed', error.message, 500);
	}
	if (!wire.stack) return wire;
	// A copy, not the thrown object: it may be shared, and its stack is still useful to the room.
	return Object.assign(Object.create(wire, { stack: { value: undefined } }) as Error, wire);
}

/** Collects what a session sends and never receives anything: for one-way batches. */
class OneWayTransport implements RpcTransport {
	readonly sent: string[] = [];
	send(message: string): void {
		this.sent.push(message);
	}
	receive(): Promise<string> {
		return new Promise(() => {});
	}
}

/**
 * Serializes one-way calls on the peer's main object as capnweb `push` messages. Nothing is pulled,
 * so the peer answers nothing. The result is computed once and may be sent to any number of peers.
 * Calls with plain data arguments (every event) are written without a session.
 */
export function encodeCalls(calls: ReadonlyArray<readonly [method: string, ...args: unknown[]]>): string[] {
	const lines: string[] = [];
	for (const [method, ...args] of calls) {
		const line = plainPush(method, args);
		if (line === undefined) return encodeWithSession(calls);
		lines.push(line);
	}
	return lines;
}

/** The message that calls the client's `RoomListener.event(name, payload)`: one line of a push frame. */
export function eventMessage(name: string, payload: EncodedPayload): string {
	return encodeCalls([['event', name, payload]])[0]!;
}

/** {@link encodeCalls} through a capnweb session: any calls, and the reference for the plain path. */
export function encodeWithSession(calls: ReadonlyArray<readonly [method: string, ...args: unknown[]]>): string[] {
	const transport = new OneWayTransport();
	const remote = new RpcSession<Record<string, (...args: unknown[]) => unknown>>(transport).getRemoteMain();
	for (const [method, ...args] of calls) (remote as any)[method](...args);
	return transport.sent;
}

/**
 * Delivers a one-way batch to `main`: runs every call in it, in order. Returns a promise only when
 * the batch needed a session (anything but plain calls); plain calls run before it returns.
 */
export function deliverOneWay(messages: readonly string[], main: object): Promise<void> | undefined {
	const calls: Array<[(...args: unknown[]) => unknown, unknown[]]> = [];
	for (const line of messages) {
		const call = readPlainCall(line);
		const method = call && plainMethod(main, call.method);
		// All or nothing, checked before anything runs: order is kept either way.
		if (!call || !method) return deliverWithSession(messages, main);
		calls.push([method, call.args]);
	}
	for (const [method, args] of calls) runOneWay(main, method, args);
	return undefined;
}

/** Runs one one-way call: as in a session, what it returns or throws goes nowhere. */
function runOneWay(main: object, method: (...args: unknown[]) => unknown, args: unknown[]): void {
	try {
		const result = method.apply(main, args);
		if (!(result instanceof RpcPromise) && typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
			Promise.resolve(result).catch(() => {});
		}
	} catch {
		// Ignored, as a session ignores a one-way call's failure.
	}
}

/** Delivers a one-way batch through a capnweb session: any batch, and the reference for `deliverOneWay`. */
export async function deliverWithSession(messages: readonly string[], main: object): Promise<void> {
	const transport = new AnsweringTransport(messages.map((m) => JSON.parse(m)));
	const session = new RpcSession(transport, main);
	await transport.allReceived;
	await session.drain();
}

// ---------------------------------------------------------------------------------------------
// Client side

const MAX_DELAY = 2 ** 31 - 1;

const now: () => number = typeof performance === 'object' ? () => performance.now() : () => Date.now();

interface PendingBatch {
	resolve(replies: string[]): void;
	reject(error: RoomError): void;
	deadline: number;
	onRefused: RefusalListener | undefined;
}

/** Hears that the room refused a batch whole (after its promise rejected with the same error). */
export type RefusalListener = (error: RoomError) => void;

/** Where frames go. Returns `false` when there is no open socket. */
export type SendFrame = (frame: string) => boolean;

/**
 * Gathers the calls made in one macrotask into one batch, handed to `sendBatch`: a socket's
 * {@link PendingBatches} in a tab with its own socket, or a port to the SharedWorker that holds it.
 *
 * The one plain call nearly every batch is travels without a capnweb session (`recorded-batch.ts`);
 * anything else through one, as with `{ plainCalls: false }`, which uses a session for every batch
 * (the reference the recorded path is tested against).
 */
export class CallBatcher<Remote = unknown> {
	#current: { main: unknown } | null = null;
	readonly #plainCalls: boolean;
	readonly #send: SendBatch;
	readonly #ended = (): void => {
		this.#current = null;
	};

	constructor(sendBatch: SendBatch, options: { plainCalls?: boolean } = {}) {
		this.#plainCalls = options.plainCalls ?? true;
		// A batch with nothing to send (a session's, when nothing was called) is answered by nobody.
		this.#send = (messages) => (messages.length === 0 ? Promise.resolve([]) : sendBatch(messages));
	}

	/** The room's API for calls made in this macrotask. */
	get main(): Remote {
		this.#current ??= this.#plainCalls ? new RecordedBatch(this.#send, this.#ended) : sessionBatch(this.#send, this.#ended);
		return this.#current.main as Remote;
	}
}

/**
 * The batches one socket has sent and not yet had answered: numbers them for their `call` frame,
 * routes the room's `reply` or `refused` frame back, times them out, and fails them all when the
 * socket goes.
 */
export class PendingBatches {
	#send: SendFrame;
	#pending = new Map<number, PendingBatch>();
	#nextId = 1;
	// One timer for every batch, due at the earliest deadline that may still be pending: a timer set
	// and cleared per call cost more than the rest of a call's bookkeeping. It is not cleared when the
	// last batch is answered (the next call would set it again); it fires, finds nothing overdue and
	// stops, and never keeps a process alive on its own.
	#timer: ReturnType<typeof setTimeout> | undefined;
	#timerDue = Infinity;
	timeoutMs: number;

	constructor(send: SendFrame, options: { timeoutMs?: number } = {}) {
		this.#send = send;
		this.timeoutMs = options.timeoutMs ?? 30_000;
	}

	/** Number of batches waiting for an answer. */
	get size(): number {
		return this.#pending.size;
	}

	/**
	 * Sends one batch as a `call` frame; resolves with the room's answers. `onRefused` is who hears
	 * of a refusal of this batch, instead of whoever {@link refuse} reports to otherwise.
	 */
	send(messages: string[], onRefused?: RefusalListener): Promise<string[]> {
		const id = this.#nextId++;
		return new Promise<string[]>((resolve, reject) => {
			const deadline = now() + this.timeoutMs;
			this.#pending.set(id, { resolve, reject, deadline, onRefused });
			this.#expireAt(deadline);
			if (!this.#send(callFrame(id, messages))) this.#settle(id, undefined, new ConnectionLost());
		});
	}

	/** The room answered batch `id`. */
	resolve(id: number, replies: string[]): void {
		this.#settle(id, replies);
	}

	/**
	 * The room refused batch `id` whole (too large, rate limited, malformed, unknown method): it
	 * rejects, then the batch's own `onRefused` hears of it, or `report` when it has none (or it is
	 * no longer pending).
	 */
	refuse(id: number, error: RoomError, report?: RefusalListener): void {
		const onRefused = this.#pending.get(id)?.onRefused;
		this.#settle(id, undefined, error);
		(onRefused ?? report)?.(error);
	}

	/** The socket is gone: every batch still waiting rejects with `error`. */
	failAll(error: RoomError = new ConnectionLost()): void {
		for (const id of [...this.#pending.keys()]) this.#settle(id, undefined, error);
		clearTimeout(this.#timer);
		this.#timer = undefined;
		this.#timerDue = Infinity;
	}

	#settle(id: number, replies?: string[], error?: RoomError): void {
		const batch = this.#pending.get(id);
		if (!batch) return; // timed out already, or a stray id
		this.#pending.delete(id);
		if (error) batch.reject(error);
		else batch.resolve(replies!);
	}

	/** Makes sure the timer fires by `deadline`. */
	#expireAt(deadline: number): void {
		if (this.#timer !== undefined) {
			if (this.#timerDue <= deadline) return;
			clearTimeout(this.#timer);
		}
		this.#timerDue = deadline;
		// setTimeout fires at once for delays past 2^31 - 1 ms; a later deadline just takes more rounds.
		const timer = setTimeout(() => this.#expire(), Math.min(MAX_DELAY, Math.max(0, deadline - now())));
		(timer as { unref?: () => void }).unref?.();
		this.#timer = timer;
	}

	/** Rejects every batch past its deadline with `CallTimeout`, and waits for the next deadline. */
	#expire(): void {
		this.#timer = undefined;
		this.#timerDue = Infinity;
		const at = now();
		let next = Infinity;
		for (const [id, batch] of this.#pending) {
			if (batch.deadline > at) next = Math.min(next, batch.deadline);
			else {
				this.#pending.delete(id);
				batch.reject(new CallTimeout(this.timeoutMs));
			}
		}
		if (next !== Infinity) this.#expireAt(next);
	}
}
