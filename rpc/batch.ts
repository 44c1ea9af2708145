/**
 * capnweb over a hibernating socket: one self-contained batch per frame.
 *
 * A persistent capnweb session would live in the room's memory and die with eviction, so instead
 * each frame carries a whole batch, the way capnweb's HTTP batch transport does. The client gathers
 * the calls made in one macrotask (so pipelined calls share the frame), sends them with a
 * correlation id, and the room answers them all in one frame. Nothing about a call outlives its
 * frame.
 */
import { RpcSession, type RpcSessionOptions, type RpcTransport, type RpcTransportWithCustomEncoding } from 'capnweb';
import { CallTimeout, ConnectionLost, RoomError } from './errors.js';
import { callFrame } from './frame.js';

// ---------------------------------------------------------------------------------------------
// Room side

/**
 * The room end of one batch. It is handed messages already parsed (the room parses once, to check
 * them before running anything), and hands back serialized replies.
 */
class AnsweringTransport implements RpcTransportWithCustomEncoding {
	readonly encodingLevel = 'jsonCompatible' as const;
	readonly replies: string[] = [];
	#incoming: unknown[];
	#next = 0;
	#allReceived = Promise.withResolvers<void>();

	constructor(incoming: unknown[]) {
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

/** Runs one batch against `main` and returns the reply messages once every call has settled. */
export async function answerBatch(
	messages: unknown[],
	main: object,
	options?: RpcSessionOptions,
): Promise<string[]> {
	const transport = new AnsweringTransport(messages);
	const session = new RpcSession(transport, main, options);
	await transport.allReceived;
	await session.drain();
	return transport.replies;
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
 */
export function encodeCalls(calls: ReadonlyArray<readonly [method: string, ...args: unknown[]]>): string[] {
	const transport = new OneWayTransport();
	const remote = new RpcSession<Record<string, (...args: unknown[]) => unknown>>(transport).getRemoteMain();
	for (const [method, ...args] of calls) (remote as any)[method](...args);
	return transport.sent;
}

/** Delivers a one-way batch to `main`: runs every call in it, in order. */
export async function deliverOneWay(messages: string[], main: object): Promise<void> {
	const transport = new AnsweringTransport(messages.map((m) => JSON.parse(m)));
	const session = new RpcSession(transport, main);
	await transport.allReceived;
	await session.drain();
}

// ---------------------------------------------------------------------------------------------
// Client side

// A full macrotask, not a microtask: the application must get the chance to call `.then()` on every
// RpcPromise of the tick (that is what asks for a result) before the batch leaves.
const nextMacrotask: () => Promise<void> =
	typeof setImmediate === 'function'
		? () => new Promise((resolve) => setImmediate(resolve))
		: () => new Promise((resolve) => setTimeout(resolve, 0));

interface PendingBatch {
	resolve(replies: string[]): void;
	reject(error: RoomError): void;
	timer: ReturnType<typeof setTimeout>;
}

/** Where frames go. Returns `false` when there is no open socket. */
export type SendFrame = (frame: string) => boolean;

/** Delivers one batch of capnweb messages and resolves with the room's answers to them. */
export type SendBatch = (messages: string[]) => Promise<string[]>;

/**
 * Gathers the calls made in one macrotask into one batch, handed to `sendBatch`: a socket's
 * {@link PendingBatches} in a tab with its own socket, or a port to the SharedWorker that holds it.
 */
export class CallBatcher<Remote = unknown> {
	#sendBatch: SendBatch;
	#current: unknown = null;

	constructor(sendBatch: SendBatch) {
		this.#sendBatch = sendBatch;
	}

	/** The room's API for calls made in this macrotask. */
	get main(): Remote {
		if (!this.#current) {
			const transport = new BatchingTransport(this);
			this.#current = new RpcSession(transport).getRemoteMain();
		}
		return this.#current as Remote;
	}

	/** Called by the transport at the end of the macrotask: later calls start a new batch. */
	flush(messages: string[]): Promise<string[]> {
		this.#current = null;
		return messages.length === 0 ? Promise.resolve([]) : this.#sendBatch(messages);
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
	timeoutMs: number;

	constructor(send: SendFrame, options: { timeoutMs?: number } = {}) {
		this.#send = send;
		this.timeoutMs = options.timeoutMs ?? 30_000;
	}

	/** Number of batches waiting for an answer. */
	get size(): number {
		return this.#pending.size;
	}

	/** Sends one batch as a `call` frame; resolves with the room's answers. */
	send(messages: string[]): Promise<string[]> {
		const id = this.#nextId++;
		return new Promise<string[]>((resolve, reject) => {
			const timer = setTimeout(() => {
				this.#pending.delete(id);
				reject(new CallTimeout(this.timeoutMs));
			}, this.timeoutMs);
			this.#pending.set(id, { resolve, reject, timer });
			if (!this.#send(callFrame(id, messages))) this.#settle(id, undefined, new ConnectionLost());
		});
	}

	/** The room answered batch `id`. */
	resolve(id: number, replies: string[]): void {
		this.#settle(id, replies);
	}

	/** The room refused batch `id` whole (too large, rate limited, malformed, unknown method). */
	refuse(id: number, error: RoomError): void {
		this.#settle(id, undefined, error);
	}

	/** The socket is gone: every batch still waiting rejects with `error`. */
	failAll(error: RoomError = new ConnectionLost()): void {
		for (const id of [...this.#pending.keys()]) this.#settle(id, undefined, error);
	}

	#settle(id: number, replies?: string[], error?: RoomError): void {
		const batch = this.#pending.get(id);
		if (!batch) return; // timed out already, or a stray id
		this.#pending.delete(id);
		clearTimeout(batch.timer);
		if (error) batch.reject(error);
		else batch.resolve(replies!);
	}
}

/** The client end of one batch (the counterpart of capnweb's BatchClientTransport). */
class BatchingTransport implements RpcTransport {
	#outgoing: string[] | null = [];
	#incoming: string[] | null = null;
	#answered: Promise<void>;

	constructor(batcher: { flush(messages: string[]): Promise<string[]> }) {
		this.#answered = nextMacrotask().then(async () => {
			const outgoing = this.#outgoing!;
			this.#outgoing = null;
			this.#incoming = await batcher.flush(outgoing);
		});
		// Rejections surface through receive(); don't report them twice.
		this.#answered.catch(() => {});
	}

	send(message: string): void {
		// After the frame left, late messages (releases, calls on a stale promise) have nowhere to go.
		this.#outgoing?.push(message);
	}

	async receive(): Promise<string> {
		if (!this.#incoming) await this.#answered;
		const message = this.#incoming!.shift();
		if (message !== undefined) return message;
		// Ends the session: anything still unanswered rejects with this.
		throw new RoomError('batch_ended', 'The batch ended before this call was answered', 0);
	}
}
