/**
 * `send()` calls made while the socket is down wait here and leave in order once it is back. The
 * queue is bounded so an app that keeps sending through a long outage cannot grow memory without
 * limit: when full, the oldest entry is dropped (its promise rejects with `SendDropped`).
 */
import { ConnectionLost } from '../rpc/errors.js';
import { SendDropped } from './errors.js';
import type { ConnectionStatus, TransportWarning } from './transport.js';

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
	 * A `send()` made while not connected: queued while `status` is connecting or reconnecting,
	 * refused otherwise. When the queue is full the oldest entry is dropped (its promise rejects)
	 * and `warn` hears of it.
	 */
	hold(status: ConnectionStatus, event: string, data: unknown, warn: (warning: TransportWarning) => void): Promise<unknown> {
		if (status !== 'connecting' && status !== 'reconnecting') return Promise.reject(new ConnectionLost('Not connected to a room: call connect() first'));
		const { promise, resolve, reject } = Promise.withResolvers<unknown>();
		this.#entries.push({ event, data, resolve, reject });
		if (this.#entries.length > this.capacity) {
			// With no room at all, that is the entry just added.
			const dropped = this.#entries.shift()!;
			dropped.reject(
				new SendDropped(dropped.event, this.capacity ? `the send queue is full (${this.capacity})` : 'the send queue holds nothing (sendQueueSize is 0)'),
			);
			warn({ code: 'send_queue_full', message: `The send queue is full (${this.capacity}); dropped the oldest "${dropped.event}"`, event: dropped.event });
		}
		return promise;
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
