/**
 * `PortTransport`: a tab's `RoomTransport` when the socket lives in the SharedWorker. It forwards
 * `connect`/`disconnect`/`send` over the tab's `MessagePort`, gathers its own `rpc` calls with a
 * `CallBatcher` and has the worker carry each batch, and replays the worker's status and events
 * into the same {@link TransportHandlers} a direct socket would feed. The client cannot tell the
 * difference, except that every tab of the browser appears in the room as one session.
 *
 * What stays in the tab: its `JoinLifecycle` (status, `connect()`'s promise, the `send()` calls
 * made while not connected, in the tab's own queue so a full queue warns this tab, not every
 * tab), and every answer is matched to this tab's request.
 *
 * The worker can go away under a tab: Chromium runs a SharedWorker in the process of the tab that
 * started it, so a crash of that tab ends it. The tab notices the silence (no ping for
 * `heartbeatMisses` intervals), opens a fresh port — `new SharedWorker` starts a new worker when
 * the old one is gone — and joins again. If the worker never answers at all (blocked, failed to
 * load, another protocol version), the transport reports itself unavailable and the client falls
 * back to a direct socket.
 */
import { CallBatcher } from '../../calls/call-batcher.js';
import { ConnectionLost, RoomError } from '../../rpc/errors.js';
import type { EncodedPayload } from '../../rpc/payload-json.js';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { Inbox } from '../inbox.js';
import { LifecycleTransport } from '../join-lifecycle.js';
import { decodeNow, encodePayload, payloadChunk, needsDecoder } from '../payload-codec.js';
import { browserWakeSignals, type WakeSignals } from '../reconnect.js';
import type { QueuedSend } from '../join-lifecycle.js';
import type { ConnectionStatus, RoomTransport, StatusChange, TransportHandlers } from '../transport.js';
import { browserPageLifecycle, type PageLifecycle } from './page-lifecycle.js';
import { withSince } from './since.js';
import {
	HEARTBEAT_INTERVAL_MS,
	HEARTBEAT_MISSES,
	PROTOCOL_VERSION,
	readMessage,
	type SocketSettings,
	type TabMessage,
	type WorkerMessage,
} from './protocol.js';
import { changeFromWire, errorFromWire, type WireError } from './wire.js';

/** The SharedWorker could not be used: the client falls back to a direct socket. */
export class SharedWorkerUnavailable extends RoomError {
	constructor(reason: string) {
		super('shared_worker_unavailable', `The shared connection is unavailable: ${reason}`, 0);
		this.name = 'SharedWorkerUnavailable';
	}
}

/**
 * Opens a new port to the worker. May throw (no SharedWorker, blocked by policy); calls `onError`
 * when the worker fails to start (e.g. its script did not load).
 */
export type OpenPort = (onError: (reason: string) => void) => MessagePort;

export interface PortTransportOptions {
	openPort: OpenPort;
	/** The room's WebSocket URL without `since`, resolved against the page (tabs with the same URL share a socket). */
	url: (room: string) => string;
	/** The client's change-feed position, sent with every join (`null`: the client does not follow entity changes). */
	since: () => number | null;
	/**
	 * For the room's socket, if this tab is the one that opens it; its `sendQueueSize` (default 100)
	 * also sizes this tab's own queue of `send()` calls made while (re)connecting.
	 */
	settings?: SocketSettings;
	clock?: Clock;
	/** Reasons to retry now, forwarded to the worker. @default the browser's `online` and visibility events */
	wakeSignals?: WakeSignals;
	/**
	 * Hears the room socket's debug lines, which the worker sends this tab (prefixed `[shared]`),
	 * and this tab's own port events. Off when absent.
	 */
	debug?: (line: string) => void;
	/** @default the browser's `pagehide` / `pageshow` */
	pageLifecycle?: PageLifecycle;
	/** @default HEARTBEAT_INTERVAL_MS */
	heartbeatIntervalMs?: number;
	/** @default HEARTBEAT_MISSES */
	heartbeatMisses?: number;
	/**
	 * The worker cannot be used. Called once, with the sends still waiting in the tab's queue (for
	 * whoever carries on to send); the transport is inert afterwards and the pending `connect()`
	 * rejects with {@link SharedWorkerUnavailable}. Without it, the transport reports
	 * `'disconnected'` with that error.
	 */
	onUnavailable?: (error: SharedWorkerUnavailable, queued: QueuedSend[]) => void;
}

type Pending<T> = PromiseWithResolvers<T>;

export class PortTransport<Remote = unknown> extends LifecycleTransport<Remote> {
	/** Hears the room's events and warnings; status goes through the lifecycle. */
	readonly #handlers: TransportHandlers;
	readonly #options: PortTransportOptions;
	readonly #clock: Clock;
	readonly #intervalMs: number;
	readonly #misses: number;
	readonly #batcher = new CallBatcher<Remote>((messages) => this.#call(messages));
	/** Calls and sends posted to the worker, by id, until it answers. */
	readonly #requests = new Map<number, Pending<unknown>>();

	/** Numbers this tab's joins; the worker stamps it on everything about the room. */
	#join = 0;
	#port: MessagePort | null = null;
	/** The worker on the current port has answered `hello`. */
	#welcomed = false;
	#lastHeard = 0;
	/** Messages after one that waits for the payload decoder chunk wait behind it, in order. */
	readonly #inbox = new Inbox((error) => console.error('@delightstack/websocket: could not handle a message from the shared worker', error));
	#nextId = 1;
	#liveness: TimerHandle | null = null;
	#stopPage: (() => void) | null = null;
	#stopWaking: (() => void) | null = null;
	#unavailable = false;

	constructor(handlers: TransportHandlers, options: PortTransportOptions) {
		super(
			handlers,
			{ join: () => this.#joinRoom(), send: (event, data) => this.#send(event, data), leave: () => this.#leave() },
			options.settings?.sendQueueSize,
		);
		this.#handlers = handlers;
		this.#options = options;
		this.#clock = options.clock ?? systemClock;
		this.#intervalMs = options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS;
		this.#misses = options.heartbeatMisses ?? HEARTBEAT_MISSES;
	}

	get rpc(): Remote {
		return this.#batcher.main;
	}

	override connect(room: string): Promise<void> {
		if (this.#unavailable) return Promise.reject(new SharedWorkerUnavailable('it failed earlier'));
		return super.connect(room);
	}

	override disconnect(): void {
		super.disconnect();
		this.#unsubscribe();
	}

	retryNow(): void {
		if (this.room !== null && this.#port && !this.#isSilent()) this.#post({ type: 'retry' });
	}

	/** The client started following entity changes while joined: the worker's socket must hear it. */
	follow(since: number): void {
		if (this.room !== null && this.status !== 'disconnected') this.#post({ type: 'follow', join: this.#join, since });
	}

	destroy(): void {
		if (this.lifecycle.destroyed) return;
		this.disconnect();
		this.#closePort(true);
		this.lifecycle.destroy();
	}

	// ---------------------------------------------------------------------------------------------
	// Joining and leaving, as the lifecycle asks

	/** `connect()` to a room not joined: listens to the page, makes sure of a port, and asks the worker. */
	#joinRoom(): void {
		this.#stopPage ??= (this.#options.pageLifecycle ?? browserPageLifecycle)({
			hide: () => this.#post({ type: 'bye' }),
			restore: () => this.#reopen('the page came back from the back/forward cache'),
		});
		// The worker has no page: this tab's `online` / `offline` are the only news of the network it gets.
		this.#stopWaking ??= (this.#options.wakeSignals ?? browserWakeSignals)((reason) => {
			this.#options.debug?.(`[tab] ${reason}: telling the shared worker`);
			if (this.#isSilent()) return this.#reopen('the shared worker stopped answering');
			this.#post({ type: 'wake', reason });
		});
		if (!this.#port || this.#isSilent()) {
			if (!this.#openPort()) return;
		}
		this.#sendJoin();
		this.lifecycle.attempting('connecting');
		this.#watch();
	}

	/** The lifecycle leaves the room: the worker stops counting this tab, and its answers stop counting. */
	#leave(): void {
		this.#join++;
		this.#post({ type: 'leave' });
		this.#failInFlight(new ConnectionLost());
	}

	// ---------------------------------------------------------------------------------------------
	// The port

	/** Opens a fresh port and greets the worker. `false` when the worker is unavailable (reported). */
	#openPort(): boolean {
		this.#closePort(true);
		let port: MessagePort | null = null;
		try {
			port = this.#options.openPort((reason) => {
				// After the worker answered once, a later error is its business; silence is ours to notice.
				if (port !== null && port === this.#port && !this.#welcomed) this.#giveUp(reason);
			});
		} catch (error) {
			this.#giveUp(error instanceof Error ? error.message : String(error));
			return false;
		}
		const opened = port;
		this.#port = opened;
		this.#welcomed = false;
		this.#lastHeard = this.#clock.now();
		opened.onmessage = (event: MessageEvent) => this.#receive(opened, event.data);
		this.#post({ type: 'hello', version: PROTOCOL_VERSION });
		return true;
	}

	/** Stops listening to the current port, if any, after saying goodbye on it when `bye`. */
	#closePort(bye: boolean): void {
		const port = this.#port;
		if (!port) return;
		if (bye) this.#post({ type: 'bye' });
		this.#port = null;
		port.onmessage = null;
		port.close();
	}

	#post(message: TabMessage): void {
		this.#port?.postMessage(message);
	}

	/** Nothing from the worker for `heartbeatMisses` intervals (it pings every interval). */
	#isSilent(): boolean {
		return this.#clock.now() - this.#lastHeard > this.#intervalMs * this.#misses;
	}

	/** Checks on the worker every interval while in a room. */
	#watch(): void {
		if (this.#liveness !== null) return;
		this.#liveness = this.#clock.setTimeout(() => {
			this.#liveness = null;
			if (this.room === null || this.#unavailable) return;
			if (this.#isSilent()) {
				if (!this.#welcomed) return this.#giveUp('the shared worker did not answer');
				this.#reopen('the shared worker stopped answering');
			}
			this.#watch();
		}, this.#intervalMs);
	}

	/** Drops the current port for a fresh one and joins again on it. */
	#reopen(why: string): void {
		if (this.room === null || this.#unavailable) return;
		if (!this.#openPort()) return;
		this.#rejoin(why);
	}

	/** The worker no longer counts this tab in its room (released, or a new port): join again. */
	#rejoin(why: string): void {
		if (this.room === null || this.status === 'disconnected') return; // stopped: connect() resumes
		this.#failInFlight(new ConnectionLost(`The connection to the shared worker was interrupted: ${why}`));
		if (this.status !== 'connecting') this.lifecycle.attempting('reconnecting', { closeCode: 1001, closeReason: why });
		this.#sendJoin();
		this.#watch();
	}

	#sendJoin(): void {
		const room = this.room!;
		this.#join++;
		this.#post({
			type: 'join',
			join: this.#join,
			room,
			// Absolute, resolved against the page: the worker's own location is its script's. The worker
			// adds its own `since` (what it has seen), so none here.
			url: withSince(this.#options.url(room), null),
			since: this.#options.since(),
			settings: this.#options.settings ?? {},
			debug: this.#options.debug !== undefined,
			online: (globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine !== false,
		});
	}

	/** The worker cannot be used: go quiet and let the client fall back. */
	#giveUp(reason: string): void {
		if (this.#unavailable) return;
		this.#unavailable = true;
		const error = new SharedWorkerUnavailable(reason);
		this.#closePort(false);
		this.#unsubscribe();
		this.#failInFlight(new ConnectionLost(error.message));
		const onUnavailable = this.#options.onUnavailable;
		if (onUnavailable) this.lifecycle.handOver(error, (queued) => onUnavailable(error, queued));
		else if (this.room !== null) this.lifecycle.stopped(error);
	}

	// ---------------------------------------------------------------------------------------------
	// From the worker

	#receive(port: MessagePort, data: unknown): void {
		if (port !== this.#port) return;
		const message = readMessage<WorkerMessage>(data);
		if (!message) return;
		this.#lastHeard = this.#clock.now();
		// Answered at once, even while messages wait: the worker would take a late pong for a gone tab.
		if (message.type === 'ping') return this.#post({ type: 'pong' });
		this.#inbox.take(() => this.#handle(port, message));
	}

	/** Handles one message; returns a promise only when it waits for the payload decoder. */
	#handle(port: MessagePort, message: WorkerMessage): Promise<void> | undefined {
		if (port !== this.#port) return undefined;
		const payload = message.type === 'event' || message.type === 'sent' ? message.payload : undefined;
		if (payload === undefined || !needsDecoder(payload)) return void this.#handleNow(message);
		// If the decoder cannot be loaded, the event becomes an `error` event and the send rejects.
		const handle = () => this.#handleNow(message);
		return payloadChunk.load().then(handle, handle);
	}

	#handleNow(message: WorkerMessage): void {
		switch (message.type) {
			case 'welcome':
				if (message.version !== PROTOCOL_VERSION) return this.#giveUp(`the shared worker speaks protocol ${message.version}, not ${PROTOCOL_VERSION}`);
				this.#welcomed = true;
				return;
			case 'released':
				return this.#rejoin('the shared worker released this tab after missed heartbeats');
			case 'replied':
				return this.#settle(message, () => message.messages ?? []);
			case 'sent':
				return this.#settle(message, () => (message.payload === undefined ? undefined : decodeNow(message.payload)));
			case 'status':
				if (message.join === this.#join) this.#onStatus(message.status, changeFromWire(message.change));
				return;
			case 'event':
				if (message.join === this.#join) this.#deliver(message.name, message.payload);
				return;
			case 'warning':
				if (message.join === this.#join) this.#handlers.warning(message.warning);
				return;
			case 'debug':
				if (message.join === this.#join) this.#options.debug?.(`[shared] ${message.line}`);
				return;
		}
	}

	#deliver(name: string, payload: EncodedPayload): void {
		let data: unknown;
		try {
			data = decodeNow(payload);
		} catch (error) {
			if (!(error instanceof RoomError && error.code === 'payload_unavailable'))
				return console.error(`@delightstack/websocket: could not deliver "${name}"`, error);
			// The decoder chunk could not be loaded: the app hears of it, as from a socket of its own.
			const message = `Could not decode the room's ${JSON.stringify(name)} event: ${error.message}`;
			console.warn(message);
			return this.#handlers.event('error', { code: error.code, status: 0, message });
		}
		try {
			this.#handlers.event(name, data);
		} catch (error) {
			console.error(`@delightstack/websocket: could not deliver "${name}"`, error);
		}
	}

	#onStatus(status: ConnectionStatus, change: StatusChange): void {
		// The tab said 'connecting' (or, joining again, 'reconnecting') itself when it asked; the
		// worker opening the room's socket says nothing new.
		if (status === 'connecting' && (this.status === 'connecting' || this.status === 'reconnecting')) return;
		switch (status) {
			case 'connected':
				return this.lifecycle.joined(change);
			case 'disconnected':
				// The room's socket stopped for good (kicked, retries exhausted); connect() starts over.
				return this.lifecycle.stopped(change.error ?? new ConnectionLost('The shared connection stopped'), change);
			default:
				return this.lifecycle.attempting(status, change);
		}
	}

	// ---------------------------------------------------------------------------------------------
	// Calls and sends

	#call(messages: string[]): Promise<string[]> {
		if (this.status !== 'connected' || !this.#port) return Promise.reject(new ConnectionLost());
		return this.#request({ type: 'call', id: 0, messages }) as Promise<string[]>;
	}

	#send(event: string, data: unknown): Promise<unknown> {
		if (!this.#port) return Promise.reject(new ConnectionLost());
		return this.#request({ type: 'send', id: 0, event, payload: encodePayload(data) });
	}

	/** Posts a call or send under a fresh id; the worker's answer to that id settles the promise. */
	#request(message: Extract<TabMessage, { id: number }>): Promise<unknown> {
		const pending = Promise.withResolvers<unknown>();
		this.#requests.set((message.id = this.#nextId++), pending);
		this.#post(message);
		return pending.promise;
	}

	/** Settles the request the worker answered with `answer`. Unknown ids (already failed) are ignored. */
	#settle(answer: { id: number; error?: WireError }, value: () => unknown): void {
		const pending = this.#requests.get(answer.id);
		if (!pending) return;
		this.#requests.delete(answer.id);
		if (answer.error) return pending.reject(errorFromWire(answer.error));
		try {
			pending.resolve(value());
		} catch (failure) {
			pending.reject(RoomError.from(failure));
		}
	}

	/** Calls and sends the worker may never answer now: they fail as on a dropped socket. */
	#failInFlight(error: RoomError): void {
		for (const pending of this.#requests.values()) pending.reject(error);
		this.#requests.clear();
	}

	// ---------------------------------------------------------------------------------------------

	#unsubscribe(): void {
		this.#stopPage?.();
		this.#stopPage = null;
		this.#stopWaking?.();
		this.#stopWaking = null;
		if (this.#liveness !== null) this.#clock.clearTimeout(this.#liveness);
		this.#liveness = null;
	}
}
