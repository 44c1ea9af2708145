/**
 * `FallbackTransport`: the shared connection first, a direct socket if the SharedWorker turns out
 * to be unusable (blocked, failed to load, another protocol version, gone and not restartable).
 *
 * The switch is one-way and happens before the tab receives anything from a room through the
 * worker, or after the worker is gone: either way no event can reach the client from both, so
 * nothing is delivered twice. The direct socket asks the room for what the client's change feed
 * has not seen (`?since=`), so nothing is lost either.
 */
import type { QueuedSend } from '../send-queue.js';
import type { ConnectionStatus, RoomTransport, TransportHandlers } from '../transport.js';
import { SharedWorkerUnavailable } from './port-transport.js';

export class FallbackTransport<Remote = unknown> implements RoomTransport<Remote> {
	readonly #handlers: TransportHandlers;
	readonly #fallback: (handlers: TransportHandlers) => RoomTransport<Remote>;
	#current: RoomTransport<Remote>;
	#retired: RoomTransport<Remote> | null = null;
	/** Which transport may report: anything from a replaced one is dropped. */
	#generation = 0;
	#room: string | null = null;

	/**
	 * @param primary builds the shared transport; it calls `unavailable` (once) when it cannot go on,
	 *   handing over the sends it still had queued.
	 * @param fallback builds the direct transport.
	 */
	constructor(
		handlers: TransportHandlers,
		primary: (handlers: TransportHandlers, unavailable: (queued: QueuedSend[]) => void) => RoomTransport<Remote>,
		fallback: (handlers: TransportHandlers) => RoomTransport<Remote>,
	) {
		this.#handlers = handlers;
		this.#fallback = fallback;
		this.#current = primary(this.#guarded(), (queued) => this.#fallBack(queued));
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
		const joined = this.#current.connect(room).catch((error: unknown) => {
			// The shared transport gave up on this attempt: the direct socket carries it on.
			if (error instanceof SharedWorkerUnavailable && this.#retired && this.#room === room) return this.#current.connect(room);
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
		this.#retired?.destroy();
	}

	#fallBack(queued: QueuedSend[]): void {
		if (this.#retired) return;
		this.#retired = this.#current;
		const direct = (this.#current = this.#fallback(this.#guarded()));
		if (this.#room !== null) direct.connect(this.#room).catch(() => {});
		for (const entry of queued) direct.send(entry.event, entry.data).then(entry.resolve, entry.reject);
	}

	#guarded(): TransportHandlers {
		const generation = ++this.#generation;
		const handlers = this.#handlers;
		const current = () => generation === this.#generation;
		return {
			status: (status, change) => current() && handlers.status(status, change),
			event: (name, data) => current() && handlers.event(name, data),
			warning: (warning) => current() && handlers.warning(warning),
		};
	}
}
