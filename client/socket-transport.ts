/**
 * `SocketTransport`: one WebSocket to one room at a time, kept alive and brought back after drops.
 * It is the socket half of a `JoinLifecycle` (status, `connect()`'s promise, sends queued while
 * down), combining a `RoomConnection` (the frame protocol) with a `ReconnectPolicy` (when to
 * retry) and a `KeepAlive` (noticing dead sockets).
 *
 * A socket it lets go (room switch, keep-alive timeout, manual disconnect) is ended first, and an
 * ended connection reports nothing (see `ConnectionHandlers`): no late frame, pong or close from a
 * replaced socket can reach the client. Only its own timers check which socket is current.
 */
import type { RefusalHandler } from '../calls/pending-batches.js';
import { ConnectionLost, RoomError } from '../rpc/errors.js';
import { WIRE_PARAM, WIRE_VERSION } from '../rpc/wire-version.js';
import type { Clock, TimerHandle } from './clock.js';
import { systemClock } from './clock.js';
import { RoomConnection } from './connection.js';
import { RetriesExhausted } from './errors.js';
import { LifecycleTransport } from './join-lifecycle.js';
import { KeepAlive, type KeepAliveOptions } from './keepalive.js';
import { ReconnectPolicy, browserWakeSignals, type ReconnectOptions, type WakeReason, type WakeSignals } from './reconnect.js';
import type { TransportHandlers } from './transport.js';

/** The close code this client uses for a socket that stopped answering pings. */
export const KEEPALIVE_TIMEOUT_CLOSE_CODE = 4000;

/** The close code this client uses for a socket it closed because the browser went offline. */
export const OFFLINE_CLOSE_CODE = 4002;

/** The close code this client reports for an attempt that got no answer within `connectTimeoutMs`. */
export const CONNECT_TIMEOUT_CLOSE_CODE = 4008;

export interface SocketTransportOptions extends KeepAliveOptions {
	/** The WebSocket URL of a room. Called for every attempt, so it may change between them. */
	url: (room: string) => string;
	reconnect?: ReconnectOptions;
	/**
	 * Milliseconds one attempt may take from opening the socket to the room's session list; past
	 * it the attempt fails with a `connect_timeout` `RoomError` and the policy retries. @default 10000
	 */
	connectTimeoutMs?: number;
	/** Milliseconds a batch of RPC calls may wait for its answer. @default 30000 */
	callTimeoutMs?: number;
	/** `send()` calls kept while connecting or reconnecting; the oldest is dropped beyond. @default 100 */
	sendQueueSize?: number;
	clock?: Clock;
	/** Random numbers in `[0, 1)` for backoff jitter. @default Math.random */
	random?: () => number;
	/** When to retry at once. @default the browser's `online` and visibility events */
	wakeSignals?: WakeSignals;
	/** The WebSocket constructor. @default globalThis.WebSocket, looked up when connecting */
	WebSocket?: typeof WebSocket;
	/** Hears frames and reconnect decisions, one line each (the client's `debug` option). */
	debug?: (line: string) => void;
}

export class SocketTransport<Remote = unknown> extends LifecycleTransport<Remote> {
	/** Hears the room's events; status and warnings go through the lifecycle. */
	readonly #handlers: TransportHandlers;
	readonly #options: SocketTransportOptions;
	readonly #clock: Clock;
	readonly #policy: ReconnectPolicy;
	readonly #debug: ((line: string) => void) | undefined;

	#connection: RoomConnection<Remote> | null = null;
	#keepAlive: KeepAlive | null = null;
	#retryTimer: TimerHandle | null = null;
	/** Fails the attempt under way if the room has not let it in by then. */
	#connectTimer: TimerHandle | null = null;
	/** The browser said `offline` and not `online` since: no retries until it does. */
	#offline = false;
	/** Gave up after the last retry, but a wake signal may start over. */
	#resting = false;
	#stopWaking: (() => void) | null = null;

	constructor(handlers: TransportHandlers, options: SocketTransportOptions) {
		super(
			handlers,
			{
				join: () => this.#joinRoom(),
				// Connected means a socket: the lifecycle sends only then.
				send: (event, data) => this.#connection!.send(event, data),
				leave: () => this.#leave(),
			},
			options.sendQueueSize,
		);
		this.#handlers = handlers;
		this.#options = options;
		this.#clock = options.clock ?? systemClock;
		this.#policy = new ReconnectPolicy(options.reconnect, options.random);
		this.#debug = options.debug;
	}

	/** The browser said `offline` (and not `online` since): no retries are made meanwhile. */
	get offline(): boolean {
		return this.#offline;
	}

	get rpc(): Remote {
		return this.#connection ? this.#connection.rpc : this.notConnected;
	}

	override disconnect(): void {
		super.disconnect();
		this.#stopWaking?.();
		this.#stopWaking = null;
	}

	/**
	 * Carries one batch of calls gathered by another `CallBatcher` (the tab side of a SharedWorker)
	 * to the room and resolves with the replies. Only while connected: calls are never queued. A
	 * refusal of the batch goes to `onRefused`, not to this transport's `error` event.
	 */
	callBatch(messages: string[], onRefused?: RefusalHandler): Promise<string[]> {
		if (this.status !== 'connected' || !this.#connection) return Promise.reject(new ConnectionLost('Not connected to the room'));
		return this.#connection.callBatch(messages, onRefused);
	}

	retryNow(): void {
		if (this.room === null) return;
		if (this.status === 'reconnecting' && this.#connection === null) {
			this.#debug?.('retry now: asked by the app');
			return this.#open('reconnecting');
		}
		if (this.status === 'disconnected' && this.#resting) this.#restart('asked by the app');
	}

	destroy(): void {
		this.disconnect();
		this.lifecycle.destroy();
	}

	// ---------------------------------------------------------------------------------------------

	/** `connect()` to a room not joined: a fresh retry count, and the first attempt. */
	#joinRoom(): void {
		this.#resting = false;
		this.#policy.reset();
		this.#stopWaking ??= (this.#options.wakeSignals ?? browserWakeSignals)((reason) => this.#wake(reason));
		this.#open('connecting');
	}

	/** Opens a socket to the current room. */
	#open(status: 'connecting' | 'reconnecting'): void {
		const room = this.room!;
		this.#clearRetry();
		let connection: RoomConnection<Remote>;
		let url = '';
		try {
			url = withWire(this.#options.url(room));
			this.#debug?.(`open ${url} (${status})`);
			connection = new RoomConnection<Remote>(
				url,
				{
					// Straight to the client: a socket this transport let go has ended, and reports nothing.
					onEvent: this.#handlers.event,
					// The room's first frame is the session list: only then is the client really in the room.
					onListed: () => {
						if (this.status !== 'connected') this.#onJoined();
					},
					onClose: (code, reason) => this.#dropped(code, reason),
					onPong: () => this.#keepAlive?.pong(),
				},
				{ callTimeoutMs: this.#options.callTimeoutMs, WebSocket: this.#options.WebSocket, debug: this.#debug },
			);
		} catch (error) {
			// No URL, a malformed URL, no WebSocket: retrying cannot fix any of these.
			const reason = error instanceof Error ? error.message : String(error);
			return this.lifecycle.stopped(new RoomError('bad_url', `Cannot open a WebSocket to room "${room}": ${reason}`, 0));
		}
		this.#connection = connection;
		const keepAlive = (this.#keepAlive = new KeepAlive(
			this.#clock,
			this.#options,
			() => connection.ping(),
			() => this.#onDead(connection),
		));
		let opened = false;
		connection.opened.then(
			() => {
				opened = true;
				if (connection === this.#connection) keepAlive.start();
			},
			() => {}, // a socket that never opened reports through onClose
		);
		const timeoutMs = this.#options.connectTimeoutMs ?? 10_000;
		this.#connectTimer = this.#clock.setTimeout(() => {
			this.#connectTimer = null;
			if (connection !== this.#connection) return;
			this.#onConnectTimeout(connection, url, timeoutMs, opened);
		}, timeoutMs);
		this.lifecycle.attempting(status);
	}

	#onJoined(): void {
		this.#clearConnectTimer();
		this.#debug?.(`joined "${this.room}"`);
		this.#policy.connected(this.#clock.now());
		this.lifecycle.joined();
	}

	/** No pong in time: treat the socket as closed now rather than whenever the browser agrees. */
	#onDead(connection: RoomConnection<Remote>): void {
		if (connection !== this.#connection) return;
		const reason = 'No pong within the keep-alive timeout';
		connection.abandon(KEEPALIVE_TIMEOUT_CLOSE_CODE, reason);
		this.#dropped(KEEPALIVE_TIMEOUT_CLOSE_CODE, reason);
	}

	/**
	 * No session list within `connectTimeoutMs`: typically a server that took the TCP connection and
	 * never answered the upgrade (Vite's dev server swallows upgrades it does not own).
	 */
	#onConnectTimeout(connection: RoomConnection<Remote>, url: string, timeoutMs: number, opened: boolean): void {
		const what = opened
			? `the socket to ${url} opened, but the room sent no session list within ${timeoutMs} ms`
			: `the server never answered the WebSocket upgrade at ${url} within ${timeoutMs} ms (is the socket path served by the room? e.g. \`vite dev\` without the room's proxy or plugin swallows it)`;
		// Reported to the client (which warns once in the page's console, also for a socket in the
		// SharedWorker) with the status change.
		const error = new RoomError('connect_timeout', `Could not join room "${this.room}": ${what}`, 504);
		connection.abandon(1000, 'connect timeout');
		this.#dropped(CONNECT_TIMEOUT_CLOSE_CODE, error.message, error);
	}

	/** The current socket is gone (closed, refused, presumed dead, too slow): retry or stop. */
	#dropped(code: number, reason: string, error?: RoomError): void {
		this.#forgetSocket();
		const decision = this.#policy.closed(code, reason, this.#clock.now());
		if (decision.action === 'stop') {
			this.#debug?.(`closed ${code} "${reason}": stopping, ${decision.error.code} (${decision.error.message})`);
			this.#resting = decision.error instanceof RetriesExhausted;
			return this.lifecycle.stopped(decision.error, { closeCode: code, closeReason: reason });
		}
		const change = { closeCode: code, closeReason: reason, ...(error ? { error } : {}) };
		if (this.#offline) {
			// Retrying now would fail (or, where only the page is offline, succeed behind its back).
			this.#debug?.(`closed ${code} "${reason}": the browser is offline, next attempt when it is back online`);
			return this.lifecycle.attempting('reconnecting', change);
		}
		this.#debug?.(`closed ${code} "${reason}": retry ${decision.attempt} in ${decision.delayMs} ms`);
		this.#retryTimer = this.#clock.setTimeout(() => {
			this.#retryTimer = null;
			this.#open('reconnecting');
		}, decision.delayMs);
		this.lifecycle.attempting('reconnecting', { ...change, attempt: decision.attempt, retryInMs: decision.delayMs });
	}

	/** The lifecycle leaves the room: the socket goes, and every timer about it. */
	#leave(): void {
		this.#clearRetry();
		this.#resting = false;
		this.#forgetSocket()?.abandon(1000, 'Client disconnect');
	}

	/** Nothing the current socket reports is heard any more, and its timers stop. Returns it. */
	#forgetSocket(): RoomConnection<Remote> | null {
		const connection = this.#connection;
		this.#clearConnectTimer();
		this.#keepAlive?.stop();
		this.#keepAlive = null;
		this.#connection = null;
		return connection;
	}

	#wake(reason: WakeReason): void {
		if (reason === 'offline') return this.#wentOffline();
		if (reason === 'online') this.#offline = false;
		if (this.room === null) return;
		switch (this.status) {
			case 'connected':
				// The socket may have died while the tab slept, and will not notice by itself: ping
				// now, so a dead socket is found within the pong timeout.
				return this.#keepAlive?.probe();
			case 'reconnecting':
				// Waiting out a backoff (or for the network): the reason to wait may be gone.
				// Mid-attempt: let it finish.
				if (this.#connection === null) {
					this.#debug?.(`retry now: ${reason}`);
					this.#open('reconnecting');
				}
				return;
			case 'disconnected':
				if (this.#resting) this.#restart(reason); // after a terminal close only connect() resumes
				return;
		}
	}

	/**
	 * The browser says the network is gone. An open socket does not notice (it may sit "open" for
	 * minutes, and where only the page is offline, as with devtools' Offline, it would even keep
	 * working for the SharedWorker while the page's requests fail): close it now, and wait for
	 * `online` instead of retrying into nothing.
	 */
	#wentOffline(): void {
		if (this.#offline) return;
		this.#offline = true;
		if (this.room === null) return;
		this.#debug?.('the browser went offline');
		const connection = this.#connection;
		if (this.status === 'connected' && connection) {
			const reason = 'The browser went offline';
			connection.abandon(OFFLINE_CLOSE_CODE, reason);
			return this.#dropped(OFFLINE_CLOSE_CODE, reason);
		}
		if (this.status === 'reconnecting' && this.#retryTimer !== null) {
			// No retry until online; the app sees no countdown meanwhile.
			this.#clearRetry();
			this.lifecycle.attempting('reconnecting');
		}
	}

	/** Gave up earlier (retries exhausted): start over with a fresh count. */
	#restart(why: string): void {
		this.#debug?.(`starting over after the retries ran out: ${why}`);
		this.#resting = false;
		this.#policy.reset();
		this.#open('reconnecting');
	}

	#clearConnectTimer(): void {
		if (this.#connectTimer !== null) this.#clock.clearTimeout(this.#connectTimer);
		this.#connectTimer = null;
	}

	#clearRetry(): void {
		if (this.#retryTimer !== null) this.#clock.clearTimeout(this.#retryTimer);
		this.#retryTimer = null;
	}
}

/** `url` stating the client's wire version: a server of another version refuses it (4426), and the page must reload. */
function withWire(url: string): string {
	const parsed = new URL(url, (globalThis as { location?: { href: string } }).location?.href);
	parsed.searchParams.set(WIRE_PARAM, String(WIRE_VERSION));
	return parsed.toString();
}
