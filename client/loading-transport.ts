/**
 * `LoadingTransport`: stands in for a transport whose code is a chunk of its own, loaded on demand
 * (a dynamic `import()`, which app bundlers split off), until the chunk is there.
 *
 * The direct socket (`SocketTransport`, with `RoomConnection`, `KeepAlive` and the reconnect loop)
 * comes this way: a browser page shares the SharedWorker's socket, so it needs that code only with
 * `shared: false`, where `SharedWorker` does not exist, or when the worker fails. The load starts
 * when such a client is built (see {@link directSocket}), so it is usually done before `connect()`.
 *
 * Until then it behaves as the transport would while connecting: `connect()` reports
 * `'connecting'` at once, `send()` calls wait in the same bounded queue, calls reject with
 * `ConnectionLost`, `disconnect()` ends the join. When the chunk arrives, the real transport takes
 * the room and the queued sends, in order, and everything goes to it from then on. A chunk that
 * cannot be loaded stops the join with a `RoomError` of code `transport_unavailable`; the next
 * `connect()` tries again.
 */
import { CallBatcher } from '../calls/call-batcher.js';
import { lazyChunk } from '../calls/lazy-chunk.js';
import { ConnectionLost, RoomError } from '../rpc/errors.js';
import { JoinLifecycle } from './join-lifecycle.js';
import type * as SocketKit from './socket-transport.js';
import type { SocketTransportOptions } from './socket-transport.js';
import type { ConnectionStatus, RoomTransport, TransportHandlers } from './transport.js';

/** The direct socket's code (`socket-transport.ts`): loaded when a client with a socket of its own is built; a load that fails rejects with `transport_unavailable`. */
export const socketChunk = lazyChunk(() => import('./socket-transport.js'), 'transport_unavailable', "The client's socket code could not be loaded");

/** A direct socket of the client's own: a `SocketTransport`, built now if its chunk is loaded, else once it is. */
export function directSocket<Remote>(handlers: TransportHandlers, options: SocketTransportOptions): RoomTransport<Remote> {
	const builder = (kit: typeof SocketKit) => () => new kit.SocketTransport<Remote>(handlers, options);
	const loaded = socketChunk.now();
	return loaded ? builder(loaded)() : new LoadingTransport(handlers, () => socketChunk.load().then(builder), options.sendQueueSize);
}

/** Rejects the wait for a transport that took over: its own `connect()` carries the join on. */
const TAKEN_OVER = new ConnectionLost('taken over');

export class LoadingTransport<Remote = unknown> implements RoomTransport<Remote> {
	readonly #lifecycle: JoinLifecycle;
	readonly #load: () => Promise<() => RoomTransport<Remote>>;
	readonly #down = new CallBatcher<Remote>(() => Promise.reject(new ConnectionLost(`Not connected to the room (${this.status})`)));
	#real: RoomTransport<Remote> | null = null;

	/** @param load loads the chunk; what it resolves with builds the real transport, reporting to the same handlers. */
	constructor(handlers: TransportHandlers, load: () => Promise<() => RoomTransport<Remote>>, sendQueueSize?: number) {
		this.#load = load;
		this.#lifecycle = new JoinLifecycle(
			handlers,
			{ join: () => this.#join(), send: () => Promise.reject(new ConnectionLost()), leave: () => {} },
			sendQueueSize,
		);
		// Usually loaded by the time the app connects.
		load().catch(() => {});
	}

	get status(): ConnectionStatus {
		return this.#real ? this.#real.status : this.#lifecycle.status;
	}

	get room(): string | null {
		return this.#real ? this.#real.room : this.#lifecycle.room;
	}

	get rpc(): Remote {
		return this.#real ? this.#real.rpc : this.#down.main;
	}

	connect(room: string): Promise<void> {
		if (this.#real) return this.#real.connect(room);
		const joined = this.#lifecycle.connect(room).catch((error: unknown) => {
			if (error === TAKEN_OVER && this.#real) return this.#real.connect(room);
			throw error;
		});
		joined.catch(() => {});
		return joined;
	}

	disconnect(): void {
		if (this.#real) this.#real.disconnect();
		else this.#lifecycle.leave('disconnect() was called');
	}

	send(event: string, data: unknown): Promise<unknown> {
		return this.#real ? this.#real.send(event, data) : this.#lifecycle.send(event, data);
	}

	retryNow(): void {
		this.#real?.retryNow();
	}

	follow(since: number): void {
		this.#real?.follow?.(since);
	}

	destroy(): void {
		if (this.#real) return this.#real.destroy();
		this.#lifecycle.leave('destroy() was called');
		this.#lifecycle.destroy();
	}

	/** The lifecycle joins a room: the real transport takes it once its code is here. */
	#join(): void {
		this.#lifecycle.attempting('connecting');
		this.#load().then(
			(build) => this.#takeOver(build),
			(error: unknown) => {
				if (!this.#real && this.#lifecycle.room !== null) this.#lifecycle.stopped(RoomError.from(error));
			},
		);
	}

	/** Builds the real transport and hands it the room being joined and the sends queued for it, in order. */
	#takeOver(build: () => RoomTransport<Remote>): void {
		const room = this.#lifecycle.room;
		// Left meanwhile (the next connect() joins again), or taken over already by an earlier join.
		if (this.#real || room === null) return;
		const real = (this.#real = build());
		this.#lifecycle.handOver(TAKEN_OVER, (queued) => {
			real.connect(room).catch(() => {});
			for (const entry of queued) real.send(entry.event, entry.data).then(entry.resolve, entry.reject);
		});
	}
}
