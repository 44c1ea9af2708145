/**
 * The batches one socket has sent and not yet had answered ({@link PendingBatches}): only a socket
 * needs them (the direct socket's chunk, the SharedWorker), so a tab that shares the worker's
 * socket never loads this module.
 */
import { CallTimeout, ConnectionLost, type RoomError } from '../rpc/errors.js';
import { callFrame } from '../rpc/frame.js';

const MAX_DELAY = 2 ** 31 - 1;

/** What a batch that pulls nothing gets: no answers (shared: nobody may change it). */
const NO_ANSWERS = Object.freeze([]) as unknown as string[];

/** A capnweb `pull` message: the caller awaits that call's result, so the room answers the batch. */
const isPull = (message: string): boolean => message.startsWith('["pull",');

const now: () => number = typeof performance === 'object' ? () => performance.now() : () => Date.now();

interface PendingBatch {
	resolve(replies: string[]): void;
	reject(error: RoomError): void;
	deadline: number;
	onRefused: RefusalHandler | undefined;
}

/** Hears that the room refused a batch whole (after its promise rejected with the same error). */
export type RefusalHandler = (error: RoomError) => void;

/** Where frames go. Returns `false` when there is no open socket. */
export type SendFrame = (frame: string) => boolean;

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

	/**
	 * The refusal handlers of batches that pulled nothing, for as long as the room may still refuse
	 * them (`timeoutMs`), oldest first. Dropped as later batches are sent: no timer.
	 */
	#unanswered = new Map<number, { onRefused: RefusalHandler; until: number }>();

	/** Keeps who hears of a refusal of one-way batch `id`, and forgets those past their time. */
	#keepRefusalHandler(id: number, onRefused: RefusalHandler): void {
		const at = now();
		for (const [old, { until }] of this.#unanswered) {
			if (until > at) break;
			this.#unanswered.delete(old);
		}
		this.#unanswered.set(id, { onRefused, until: at + this.timeoutMs });
	}

	/** Number of batches waiting for an answer. */
	get size(): number {
		return this.#pending.size;
	}

	/**
	 * Sends one batch as a `call` frame; resolves with the room's answers. `onRefused` is who hears
	 * of a refusal of this batch, instead of whoever {@link refuse} reports to otherwise.
	 *
	 * A batch that pulls nothing (calls nobody awaited) is answered by no frame: it resolves with no
	 * answers once sent, is never pending and never times out. The room may still refuse it: then
	 * `onRefused` hears of it (kept `timeoutMs`, as long as the room may take), or without one
	 * {@link refuse}'s `report` (the `error` event).
	 */
	send(messages: string[], onRefused?: RefusalHandler): Promise<string[]> {
		const id = this.#nextId++;
		if (!messages.some(isPull)) {
			if (!this.#send(callFrame(id, messages))) return Promise.reject(new ConnectionLost());
			if (onRefused) this.#keepRefusalHandler(id, onRefused);
			return Promise.resolve(NO_ANSWERS);
		}
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
	refuse(id: number, error: RoomError, report?: RefusalHandler): void {
		const onRefused = this.#pending.get(id)?.onRefused ?? this.#unanswered.get(id)?.onRefused;
		this.#unanswered.delete(id);
		this.#settle(id, undefined, error);
		(onRefused ?? report)?.(error);
	}

	/** The socket is gone: every batch still waiting rejects with `error`. */
	failAll(error: RoomError = new ConnectionLost()): void {
		this.#unanswered.clear();
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
