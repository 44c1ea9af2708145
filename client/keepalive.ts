/**
 * Keep-alive: notices a socket that looks open but is dead (a sleeping laptop, a NAT that forgot the
 * flow, a proxy that stopped forwarding). Browsers may take minutes to fire `close` on such a
 * socket, so the client asks for a pong itself and gives up on the socket when none comes.
 *
 * The room's runtime answers the ping (`setWebSocketAutoResponse`), so this never wakes a
 * hibernating room.
 *
 * It also catches a half-closed socket: when a server's close frame arrives but the TCP connection
 * stays open (local workerd does this for closes issued outside a WebSocket event), the socket sits
 * in CLOSING and `close` never fires; the next ping finds it unusable.
 */
import type { Clock, TimerHandle } from './clock.js';

export interface KeepAliveOptions {
	/** Time between a pong (or the open) and the next ping. @default 30000 */
	pingIntervalMs?: number;
	/** How long a ping may wait for its pong before the socket is declared dead. @default 10000 */
	pongTimeoutMs?: number;
}

export class KeepAlive {
	readonly #clock: Clock;
	readonly #intervalMs: number;
	readonly #timeoutMs: number;
	readonly #ping: () => boolean;
	readonly #onTimeout: () => void;
	#nextPing: TimerHandle | null = null;
	#deadline: TimerHandle | null = null;

	/**
	 * @param ping sends one ping; `false` when the socket could not take it.
	 * @param onTimeout the socket is dead: no pong within the timeout, or it could not take a ping.
	 */
	constructor(clock: Clock, options: KeepAliveOptions, ping: () => boolean, onTimeout: () => void) {
		this.#clock = clock;
		this.#intervalMs = options.pingIntervalMs ?? 30_000;
		this.#timeoutMs = options.pongTimeoutMs ?? 10_000;
		this.#ping = ping;
		this.#onTimeout = onTimeout;
	}

	/** The socket opened: ping after one interval. */
	start(): void {
		this.stop();
		this.#schedulePing();
	}

	/** Pings now rather than at the next interval, e.g. when a hidden tab becomes visible again. */
	probe(): void {
		if (this.#deadline !== null) return; // a ping is already waiting for its pong
		this.#clearNextPing();
		this.#sendPing();
	}

	/** The room answered. */
	pong(): void {
		if (this.#deadline === null) return;
		this.#clock.clearTimeout(this.#deadline);
		this.#deadline = null;
		this.#schedulePing();
	}

	stop(): void {
		this.#clearNextPing();
		if (this.#deadline !== null) this.#clock.clearTimeout(this.#deadline);
		this.#deadline = null;
	}

	#schedulePing(): void {
		this.#nextPing = this.#clock.setTimeout(() => {
			this.#nextPing = null;
			this.#sendPing();
		}, this.#intervalMs);
	}

	#sendPing(): void {
		// A socket that cannot take a ping is dead already: e.g. the server's close frame arrived
		// (the socket is CLOSING) but the TCP connection was left open, so `close` never fires.
		if (!this.#ping()) return this.#onTimeout();
		this.#deadline = this.#clock.setTimeout(() => {
			this.#deadline = null;
			this.#onTimeout();
		}, this.#timeoutMs);
	}

	#clearNextPing(): void {
		if (this.#nextPing !== null) this.#clock.clearTimeout(this.#nextPing);
		this.#nextPing = null;
	}
}
