/**
 * The direct socket's code (`SocketTransport`, with `RoomConnection`, `KeepAlive` and the reconnect
 * loop) is a chunk of its own, loaded on demand (a dynamic `import()`, which app bundlers split
 * off): a browser page shares the SharedWorker's socket, so it needs that code only with
 * `shared: false`, where `SharedWorker` does not exist, or when the worker fails. The load starts
 * when such a client is built (see {@link directSocket}), so it is usually done before `connect()`.
 *
 * Until then a {@link LoadingTransport} stands in, behaving as the socket would while connecting:
 * `connect()` reports `'connecting'` at once, `send()` calls wait in the same bounded queue, calls
 * reject with `ConnectionLost`, `disconnect()` ends the join. When the chunk arrives, the socket
 * takes the room and the queued sends, in order (a `HandOverTransport`), and everything goes to it
 * from then on. A chunk that cannot be loaded stops the join with a `RoomError` of code
 * `transport_unavailable`; the next `connect()` tries again.
 */
import { lazyChunk } from '../calls/lazy-chunk.js';
import { ConnectionLost, RoomError } from '../rpc/errors.js';
import { HandOverTransport, type HandOver } from './hand-over.js';
import { LifecycleTransport } from './join-lifecycle.js';
import type { SocketTransportOptions } from './socket-transport.js';
import type { RoomTransport, TransportHandlers } from './transport.js';

/** The direct socket's code (`socket-transport.ts`): loaded when a client with a socket of its own is built; a load that fails rejects with `transport_unavailable`. */
export const socketChunk = lazyChunk(() => import('./socket-transport.js'), 'transport_unavailable', "The client's socket code could not be loaded");

/** A direct socket of the client's own: a `SocketTransport`, built now if its chunk is loaded, else once it is. */
export function directSocket<Remote>(handlers: TransportHandlers, options: SocketTransportOptions): RoomTransport<Remote> {
	// Only called once the chunk is loaded.
	const socket = (handlers: TransportHandlers) => new (socketChunk.now()!.SocketTransport<Remote>)(handlers, options);
	if (socketChunk.now()) return socket(handlers);
	// Usually loaded by the time the app connects.
	socketChunk.prefetch();
	return new HandOverTransport<Remote>(handlers, (handlers, handOver) => new LoadingTransport(handlers, handOver, options.sendQueueSize), socket);
}

/** Rejects the join a successor took over: its own `connect()` carries the join on. */
const HANDED_OVER = new ConnectionLost('taken over');

/** Stands in for the direct socket while its chunk loads, then hands over to it (see the header). */
export class LoadingTransport<Remote = unknown> extends LifecycleTransport<Remote> {
	readonly #handOver: HandOver;
	#handedOver = false;

	constructor(handlers: TransportHandlers, handOver: HandOver, sendQueueSize?: number) {
		super(handlers, { join: () => this.#join(), send: () => Promise.reject(new ConnectionLost()), leave: () => {} }, sendQueueSize);
		this.#handOver = handOver;
	}

	get rpc(): Remote {
		return this.notConnected;
	}

	retryNow(): void {}

	destroy(): void {
		this.lifecycle.leave('destroy() was called');
		this.lifecycle.destroy();
	}

	/** The lifecycle joins a room: the socket takes it once its code is here. */
	#join(): void {
		this.lifecycle.attempting('connecting');
		socketChunk.load().then(
			() => {
				// Left meanwhile (the next connect() joins again), or handed over already by an earlier join.
				if (this.#handedOver || this.lifecycle.room === null) return;
				this.#handedOver = true;
				this.lifecycle.handOver(HANDED_OVER, this.#handOver);
			},
			(error: unknown) => {
				if (!this.#handedOver && this.lifecycle.room !== null) this.lifecycle.stopped(RoomError.from(error));
			},
		);
	}
}
