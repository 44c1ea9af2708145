/**
 * The client end of room calls: gathers the calls made in one macrotask into one batch
 * ({@link CallBatcher}). A socket tracks the batches it sent until the room answers them with
 * `PendingBatches` (`pending-batches.ts`, only in the direct socket's chunk and the SharedWorker).
 * The room end is `batch.ts`.
 */
import { LeavingOrder, type SendBatch } from './batch-delivery.js';
import { DeferredBatch, recorderChunk } from './deferred-batch.js';
import { sessionChunk } from './sessions.js';
import { SHORTCUT } from './shortcut/switch.js';

/**
 * Gathers the calls made in one macrotask into one batch, handed to `sendBatch`: a socket's
 * `PendingBatches` in a tab with its own socket, or a port to the SharedWorker that holds it.
 *
 * The one plain call nearly every batch is travels without a capnweb session (`recorded-batch.ts`,
 * a chunk loaded on demand; before it is there, `deferred-batch.ts` sends a JSON call alone itself);
 * anything else through one, as with `{ plainCalls: false }`, which uses a session for every batch
 * (the reference the recorded path is tested against). Sessions come with capnweb, loaded on the
 * first batch that needs one (`sessions.ts`); until then such a batch is recorded, and it and the
 * batches after it leave once capnweb is there.
 */
export class CallBatcher<Remote = unknown> {
	#current: { main: unknown } | null = null;
	readonly #plainCalls: boolean;
	readonly #send: SendBatch;
	readonly #order = new LeavingOrder();
	readonly #ended = (): void => {
		this.#current = null;
	};

	constructor(sendBatch: SendBatch, options: { plainCalls?: boolean } = {}) {
		this.#plainCalls = options.plainCalls ?? SHORTCUT;
		// A batch with nothing to send (a session's, when nothing was called) is answered by nobody.
		this.#send = (messages) => (messages.length === 0 ? Promise.resolve([]) : sendBatch(messages));
	}

	/** The room's API for calls made in this macrotask. */
	get main(): Remote {
		if (!this.#current) {
			const sessions = this.#plainCalls ? undefined : sessionChunk.now();
			const recorder = recorderChunk.now();
			this.#current = sessions
				? sessions.sessionBatch(this.#send, this.#ended, this.#order)
				: recorder
					? new recorder.RecordedBatch(this.#send, this.#ended, this.#order, this.#plainCalls)
					: new DeferredBatch(this.#send, this.#ended, this.#order, this.#plainCalls);
		}
		return this.#current.main as Remote;
	}
}

/**
 * One object standing for the room's API across batches: every use goes to `current()`, the API of
 * the current macrotask's batch. So a reference kept by the application (`const rpc = ws.rpc`) goes
 * on working after its first batch left, instead of failing with `batch_ended`.
 */
export function stableMain<Remote>(current: () => Remote): Remote {
	const now = () => current() as unknown as (...args: unknown[]) => unknown;
	// A function target, as capnweb's stubs: the proxy must be callable like them.
	return new Proxy(() => {}, {
		get: (_, prop) => (now() as unknown as Record<PropertyKey, unknown>)[prop],
		apply: (_, __, args) => Reflect.apply(now(), undefined, args),
		has: (_, prop) => Reflect.has(now(), prop),
		getPrototypeOf: () => Reflect.getPrototypeOf(now()),
	}) as unknown as Remote;
}
