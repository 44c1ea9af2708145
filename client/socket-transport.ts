/**
 * `SocketTransport`: one WebSocket to one room at a time, kept alive and brought back after drops.
 * It combines a `RoomConnection` (the frame protocol) with a `ReconnectPolicy` (when to retry), a
 * `KeepAlive` (noticing dead sockets) and a `SendQueue` (sends made while down).
 *
 * Every socket it opens is checked against the current one before anything it reports is used, so
 * a late frame or close from a socket that was replaced (room switch, keep-alive timeout, manual
 * disconnect) can never reach the client.
 */
import { CallBatcher, type RefusalListener } from '../rpc/call-batcher.js';
import { ConnectionLost, RoomError } from '../rpc/errors.js';
import type { Clock, TimerHandle } from './clock.js';
import { systemClock } from './clock.js';
import { RoomConnection } from './connection.js';
import { RetriesExhausted } from './errors.js';
import { KeepAlive, type KeepAliveOptions } from './keepalive.js';
import { ReconnectPolicy, browserWakeSignals, type ReconnectOptions, type WakeReason, type WakeSignals } from './reconnect.js';
import { SendQueue } from './send-queue.js';
import { PendingJoin, type ConnectionStatus, type RoomTransport, type StatusChange, type TransportListener } from './transport.js';

/** The close code this client uses for a socket that stopped answering pings. */
export const KEEPALIVE_TIMEOUT_CLOSE_CODE = 4000;

export interface SocketTransportOptions extends KeepAliveOptions {
	/** The WebSocket URL of a room. Called for every attempt, so it may change between them. */
	url: (room: string) => string;
	reconnect?: ReconnectOptions;
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
}

export class SocketTransport<Remote = unknown> implements RoomTransport<Remote> {
	readonly #listener: TransportListener;
	readonly #options: SocketTransportOptions;
	readonly #clock: Clock;
	readonly #policy: ReconnectPolicy;
	readonly #queue: SendQueue;
	/** Answers calls made while there is no socket: they reject with `ConnectionLost`. */
	readonly #offline = new CallBatcher<Remote>(() => Promise.reject(new ConnectionLost()));

	#status: ConnectionStatus = 'disconnected';
	#room: string | null = null;
	#connection: RoomConnection<Remote> | null = null;
	#keepAlive: KeepAlive | null = null;
	#retryTimer: TimerHandle | null = null;
	/** The `connect()` promise waiting for the next join; `null` while connected or stopped. */
	readonly #joining = new PendingJoin();
	/** Gave up after the last retry, but a wake signal may start over. */
	#resting = false;
	#stopWaking: (() => void) | null = null;
	#destroyed = false;

	constructor(listener: TransportListener, options: SocketTransportOptions) {
		this.#listener = listener;
		this.#options = options;
		this.#clock = options.clock ?? systemClock;
		this.#policy = new ReconnectPolicy(options.reconnect, options.random);
		this.#queue = new SendQueue(options.sendQueueSize);
	}

	get status(): ConnectionStatus {
		return this.#status;
	}

	get room(): string | null {
		return this.#room;
	}

	get rpc(): Remote {
		return this.#connection ? this.#connection.rpc : this.#offline.main;
	}

	connect(room: string): Promise<void> {
		if (this.#destroyed) return Promise.reject(new RoomError('destroyed', 'This client was destroyed', 0));
		if (room === this.#room && this.#status === 'connected') return Promise.resolve();
		if (room === this.#room && this.#status !== 'disconnected') return this.#joining.promise;
		if (this.#room !== null && room !== this.#room) this.#leave(`switched to room "${room}"`);

		const joined = this.#joining.promise;
		this.#room = room;
		this.#resting = false;
		this.#policy.reset();
		this.#stopWaking ??= (this.#options.wakeSignals ?? browserWakeSignals)((reason) => this.#wake(reason));
		this.#open('connecting');
		return joined;
	}

	disconnect(): void {
		if (this.#room === null) return;
		this.#leave('disconnect() was called');
		this.#stopWaking?.();
		this.#stopWaking = null;
	}

	send(event: string, data: unknown): Promise<unknown> {
		if (this.#status === 'connected' && this.#connection) return this.#connection.send(event, data);
		return this.#queue.hold(this.#status, event, data, (warning) => this.#listener.warning(warning));
	}

	/**
	 * Carries one batch of calls gathered by another `CallBatcher` (the tab side of a SharedWorker)
	 * to the room and resolves with the replies. Only while connected: calls are never queued. A
	 * refusal of the batch goes to `onRefused`, not to this transport's `error` event.
	 */
	callBatch(messages: string[], onRefused?: RefusalListener): Promise<string[]> {
		if (this.#status !== 'connected' || !this.#connection) return Promise.reject(new ConnectionLost('Not connected to the room'));
		return this.#connection.callBatch(messages, onRefused);
	}

	destroy(): void {
		this.disconnect();
		this.#destroyed = true;
	}

	// ---------------------------------------------------------------------------------------------

	/** Opens a socket to the current room. */
	#open(status: 'connecting' | 'reconnecting'): void {
		const room = this.#room!;
		this.#clearRetry();
		let connection: RoomConnection<Remote>;
		try {
			connection = new RoomConnection<Remote>(
				this.#options.url(room),
				{
					onEvent: (name, data) => this.#onEvent(connection, name, data),
					onClose: (code, reason) => this.#onClose(connection, code, reason),
					onPong: () => {
						if (connection === this.#connection) this.#keepAlive?.pong();
					},
				},
				{ callTimeoutMs: this.#options.callTimeoutMs, WebSocket: this.#options.WebSocket },
			);
		} catch (error) {
			// No URL, a malformed URL, no WebSocket: retrying cannot fix any of these.
			const reason = error instanceof Error ? error.message : String(error);
			return this.#stop(new RoomError('bad_url', `Cannot open a WebSocket to room "${room}": ${reason}`, 0), {});
		}
		this.#connection = connection;
		const keepAlive = (this.#keepAlive = new KeepAlive(
			this.#clock,
			this.#options,
			() => connection.ping(),
			() => this.#onDead(connection),
		));
		connection.opened.then(
			() => {
				if (connection === this.#connection) keepAlive.start();
			},
			() => {}, // a socket that never opened reports through onClose
		);
		this.#setStatus(status, {});
	}

	#onEvent(connection: RoomConnection<Remote>, name: string, data: unknown): void {
		if (connection !== this.#connection) return;
		this.#listener.event(name, data);
		// The room's first frame is the session list: only then is the client really in the room.
		if (name === 'session:list' && this.#status !== 'connected') this.#onJoined(connection);
	}

	#onJoined(connection: RoomConnection<Remote>): void {
		this.#policy.connected(this.#clock.now());
		this.#setStatus('connected', { error: null });
		if (connection !== this.#connection) return; // a status listener switched rooms or disconnected
		for (const entry of this.#queue.drain()) connection.send(entry.event, entry.data).then(entry.resolve, entry.reject);
		this.#joining.resolve();
	}

	#onClose(connection: RoomConnection<Remote>, code: number, reason: string): void {
		if (connection !== this.#connection) return;
		this.#dropped(code, reason);
	}

	/** No pong in time: treat the socket as closed now rather than whenever the browser agrees. */
	#onDead(connection: RoomConnection<Remote>): void {
		if (connection !== this.#connection) return;
		const reason = 'No pong within the keep-alive timeout';
		connection.abandon(KEEPALIVE_TIMEOUT_CLOSE_CODE, reason);
		this.#dropped(KEEPALIVE_TIMEOUT_CLOSE_CODE, reason);
	}

	/** The current socket is gone (closed, refused, or presumed dead): retry or stop. */
	#dropped(code: number, reason: string): void {
		this.#keepAlive?.stop();
		this.#keepAlive = null;
		this.#connection = null;
		const decision = this.#policy.closed(code, reason, this.#clock.now());
		if (decision.action === 'stop') {
			this.#resting = decision.error instanceof RetriesExhausted;
			return this.#stop(decision.error, { closeCode: code, closeReason: reason });
		}
		this.#retryTimer = this.#clock.setTimeout(() => {
			this.#retryTimer = null;
			this.#open('reconnecting');
		}, decision.delayMs);
		this.#setStatus('reconnecting', { closeCode: code, closeReason: reason, attempt: decision.attempt, retryInMs: decision.delayMs });
	}

	/** Stops trying (the room stays remembered so `connect()` or a wake can resume). */
	#stop(error: RoomError, change: Omit<StatusChange, 'room' | 'error'>): void {
		this.#queue.rejectAll(error.message);
		const fail = this.#joining.detach();
		this.#setStatus('disconnected', { ...change, error });
		fail(error);
	}

	/** Leaves the current room for good: the socket, the queue, the pending `connect()`. */
	#leave(why: string): void {
		const room = this.#room!;
		const connection = this.#connection;
		this.#clearRetry();
		this.#keepAlive?.stop();
		this.#keepAlive = null;
		this.#connection = null;
		this.#room = null;
		this.#resting = false;
		connection?.abandon(1000, 'Client disconnect');
		this.#queue.rejectAll(why);
		this.#joining.detach()(new ConnectionLost(`The connection attempt was abandoned: ${why}`));
		if (this.#status !== 'disconnected') this.#setStatus('disconnected', { room, error: null, closeCode: 1000, closeReason: why });
	}

	#wake(reason: WakeReason): void {
		if (this.#destroyed || this.#room === null) return;
		// Going offline is only news to an open socket (reconnecting now would just fail).
		if (reason === 'offline' && this.#status !== 'connected') return;
		switch (this.#status) {
			case 'connected':
				// The socket may have died while the tab slept or the network went away, and will not
				// notice by itself: ping now, so a dead socket is found within the pong timeout.
				return this.#keepAlive?.probe();
			case 'reconnecting':
				// Waiting out a backoff: the reason to wait may be gone. (Mid-attempt: let it finish.)
				if (this.#retryTimer !== null) this.#open('reconnecting');
				return;
			case 'disconnected':
				if (!this.#resting) return; // terminal close or never started: only connect() resumes
				this.#resting = false;
				this.#policy.reset();
				this.#open('reconnecting');
				return;
		}
	}


	#clearRetry(): void {
		if (this.#retryTimer !== null) this.#clock.clearTimeout(this.#retryTimer);
		this.#retryTimer = null;
	}

	#setStatus(status: ConnectionStatus, change: Omit<StatusChange, 'room'> & { room?: string }): void {
		this.#status = status;
		this.#listener.status(status, { room: this.#room ?? '', ...change });
	}
}
