/**
 * `send()` calls made while the socket is down wait here and leave in order once it is back. The
 * queue is bounded so an app that keeps sending through a long outage cannot grow memory without
 * limit: when full, the oldest entry is dropped (its promise rejects with `SendDropped`).
 */
import { SendDropped } from './errors.js';

export interface QueuedSend {
	readonly event: string;
	readonly data: unknown;
	resolve(value: unknown): void;
	reject(error: unknown): void;
}

export class SendQueue {
	readonly capacity: number;
	#entries: QueuedSend[] = [];

	constructor(capacity = 100) {
		this.capacity = Math.max(0, Math.floor(capacity));
	}

	get size(): number {
		return this.#entries.length;
	}

	/**
	 * Queues a send. Returns its promise and, when the queue was full, the entry dropped to make
	 * room (already rejected), so the caller can warn about it.
	 */
	push(event: string, data: unknown): { promise: Promise<unknown>; dropped?: QueuedSend } {
		const { promise, resolve, reject } = Promise.withResolvers<unknown>();
		const entry: QueuedSend = { event, data, resolve, reject };
		if (this.capacity === 0) {
			entry.reject(new SendDropped(event, 'the send queue holds nothing (sendQueueSize is 0)'));
			return { promise, dropped: entry };
		}
		this.#entries.push(entry);
		let dropped: QueuedSend | undefined;
		if (this.#entries.length > this.capacity) {
			dropped = this.#entries.shift()!;
			dropped.reject(new SendDropped(dropped.event, `the send queue is full (${this.capacity})`));
		}
		return { promise, dropped };
	}

	/** Takes every entry out, oldest first. */
	drain(): QueuedSend[] {
		const entries = this.#entries;
		this.#entries = [];
		return entries;
	}

	/** Rejects and removes every entry. */
	rejectAll(why: string): void {
		for (const entry of this.drain()) entry.reject(new SendDropped(entry.event, why));
	}
}
