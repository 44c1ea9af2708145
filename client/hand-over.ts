/**
 * `HandOverTransport`: a transport that starts with one transport and hands over, once, to a
 * successor. Two clients of it:
 *
 * - the shared connection (`client/shared-worker.ts`): the SharedWorker's `PortTransport` first, a
 *   direct socket if the worker turns out to be unusable (blocked, failed to load, another protocol
 *   version, gone and not restartable);
 * - the direct socket (`loading-transport.ts`): a stand-in while the socket's chunk loads, the
 *   `SocketTransport` once it is there.
 *
 * On the hand-over the successor joins the room being joined and takes the sends the first one
 * still had queued, in order; a `connect()` waiting on the first one goes on with the successor.
 * Anything the first transport reports afterwards is dropped. The shared connection hands over
 * before the tab receives anything from a room through the worker, or after the worker is gone:
 * either way no event reaches the client from both, so nothing is delivered twice, and the direct
 * socket asks the room for what the client's change feed has not seen (`?since=`), so nothing is
 * lost either.
 */
import type { QueuedSend } from './join-lifecycle.js';
import type { ConnectionStatus, RoomTransport, TransportHandlers } from './transport.js';

/** Hands over to the successor, with the sends still queued (for it to send). */
export type HandOver = (queued: QueuedSend[]) => void;

export class HandOverTransport<Remote = unknown> implements RoomTransport<Remote> {
	readonly #handlers: TransportHandlers;
	readonly #successor: (handlers: TransportHandlers) => RoomTransport<Remote>;
	#current: RoomTransport<Remote>;
	/** The first transport, once it has handed over: anything it reports from then on is dropped. */
	#first: RoomTransport<Remote> | null = null;
	#room: string | null = null;

	/**
	 * @param first builds the first transport; it calls `handOver` (once) when the successor is to
	 *   take over, after which its pending `connect()` may reject.
	 * @param successor builds the transport that takes over.
	 */
	constructor(
		handlers: TransportHandlers,
		first: (handlers: TransportHandlers, handOver: HandOver) => RoomTransport<Remote>,
		successor: (handlers: TransportHandlers) => RoomTransport<Remote>,
	) {
		this.#handlers = handlers;
		this.#successor = successor;
		this.#current = first(this.#untilHandedOver(), (queued) => this.#handOver(queued));
	}

	get status(): ConnectionStatus {
		return this.#current.status;
	}

	get room(): string | null {
		return this.#current.room;
	}

	get rpc(): Remote {
		return this.#current.rpc;
	}

	connect(room: string): Promise<void> {
		this.#room = room;
		const asked = this.#current;
		const joined = asked.connect(room).catch((error: unknown) => {
			// Handed over meanwhile: the successor carries this join on.
			if (asked !== this.#current && this.#room === room) return this.#current.connect(room);
			throw error;
		});
		// Callers may drop the promise; a rejection nobody awaits is not an error of the app.
		joined.catch(() => {});
		return joined;
	}

	disconnect(): void {
		this.#room = null;
		this.#current.disconnect();
	}

	send(event: string, data: unknown): Promise<unknown> {
		return this.#current.send(event, data);
	}

	retryNow(): void {
		this.#current.retryNow();
	}

	follow(since: number): void {
		this.#current.follow?.(since);
	}

	destroy(): void {
		this.#room = null;
		this.#current.destroy();
		this.#first?.destroy();
	}

	#handOver(queued: QueuedSend[]): void {
		if (this.#first) return;
		this.#first = this.#current;
		// The last transport there will be: it reports straight to the handlers.
		const next = (this.#current = this.#successor(this.#handlers));
		if (this.#room !== null) next.connect(this.#room).catch(() => {});
		for (const entry of queued) next.send(entry.event, entry.data).then(entry.resolve, entry.reject);
	}

	/** The first transport's handlers: silent once it has handed over. */
	#untilHandedOver(): TransportHandlers {
		const handlers = this.#handlers;
		const current = () => this.#first === null;
		return {
			status: (status, change) => current() && handlers.status(status, change),
			event: (name, data) => current() && handlers.event(name, data),
			warning: (warning) => current() && handlers.warning(warning),
		};
	}
}
