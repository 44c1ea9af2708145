/// <reference types="svelte" />
/**
 * `WebsocketClient`: a room as reactive Svelte 5 state. Read `status`, `sessions` or `users` in a
 * component and it updates by itself; listen with `on`; call the room with `rpc`; send events with
 * `send`. Reconnects, keep-alive and queued sends are handled by the transport underneath (the
 * SharedWorker's socket shared by all tabs, or a `SocketTransport` of this client's own), which
 * this class only listens to.
 */
import { RoomError } from '../rpc/errors.js';
import type { AuthSessionMeta, EventMap, RoomRpc, SessionInfo } from '../rpc/types.js';
import { ChangeFeed, type DatabaseHooks } from './change-feed.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { Listeners, type AnyEvent, type WebsocketEvents } from './events.js';
import type { ReconnectOptions, WakeSignals } from './reconnect.js';
import { Presence, type UserPresence } from './presence.svelte.js';
import type { SocketSettings } from './shared/protocol.js';
import { withSince } from './shared/since.js';
import type { OpenPort } from './shared/port-transport.js';
import { openSharedWorkerPort, sharedTransport, sharedWorkerSupported } from './shared-worker.js';
import { SocketTransport } from './socket-transport.js';
import type { ConnectionStatus, RoomTransport, StatusChange, TransportFactory, TransportListener } from './transport.js';

export interface WebsocketClientOptions<Api = unknown> {
	/**
	 * The WebSocket URL of a room. Called for every attempt.
	 * @default same origin: `ws(s)://<host>/api/websocket?room=<room>`
	 */
	url?: (room: string) => string;
	/** Backoff, retry limit and terminal close codes. See {@link ReconnectOptions} for defaults. */
	reconnect?: ReconnectOptions;
	/** Time between keep-alive pings. @default 30000 */
	pingIntervalMs?: number;
	/** A ping without a pong for this long means the socket is dead: close it and reconnect. @default 10000 */
	pongTimeoutMs?: number;
	/** How long an RPC batch may wait for its answer before rejecting with `CallTimeout`. @default 30000 */
	callTimeoutMs?: number;
	/** `send()` calls kept while (re)connecting; beyond it the oldest is dropped with a `ws:warning`. @default 100 */
	sendQueueSize?: number;
	/** How long a user whose last session left stays in `users`. @default 5000 */
	userLeaveGraceMs?: number;
	/** How long `isLive` stays true while reconnecting after a drop. @default 60000 */
	liveGraceMs?: number;
	/** Time source for every timer the client sets; tests pass a controllable one. */
	clock?: Clock;
	/** Random numbers in `[0, 1)` for backoff jitter. @default Math.random */
	random?: () => number;
	/** When to retry at once instead of waiting out a backoff. @default the browser's `online` and visibility events */
	wakeSignals?: WakeSignals;
	/**
	 * The WebSocket constructor. Passing one also lets `connect()` run outside a browser (tests,
	 * scripts); without it, `connect()` on the server does nothing.
	 */
	WebSocket?: typeof WebSocket;
	/**
	 * Share one socket per room among all tabs of this origin, through a SharedWorker: the room
	 * sees one session per browser, and every tab still gets each event exactly once and only its
	 * own RPC replies. Where `SharedWorker` does not exist (Chrome on Android, SSR) or fails to
	 * start, each client uses its own direct socket instead, as with `shared: false`.
	 *
	 * With the shared socket, the first tab to open a room decides its socket settings
	 * (`reconnect`, `pingIntervalMs`, `pongTimeoutMs`, `callTimeoutMs`, `sendQueueSize`), `url` is
	 * called once per join instead of once per attempt (tabs whose URLs differ get separate
	 * sockets), and `clock`, `random`, `WebSocket` apply to the direct socket only.
	 *
	 * @default true in a browser with `SharedWorker` (or when `sharedWorker` is given), unless a
	 * `WebSocket` constructor is passed
	 */
	shared?: boolean;
	/**
	 * Opens a new port to the SharedWorker. @default `new SharedWorker(new URL('./shared/worker.js',
	 * import.meta.url), { type: 'module', name: '@delightstack/websocket@<version>' }).port`, which
	 * Vite bundles by itself. Pass your own for a bundler that does not (serve
	 * `@delightstack/websocket/dist/client/shared/worker.js` bundled, keep the name), or to run the
	 * worker's hub in-process in tests.
	 */
	sharedWorker?: OpenPort;
	/**
	 * How the client reaches rooms. @default the shared connection (see `shared`), else a direct
	 * WebSocket per client (`SocketTransport`) built from the options above. Passing one also lets
	 * `connect()` run outside a browser.
	 */
	transport?: TransportFactory<RoomRpc<Api>>;
}

/** The default room URL: same origin, `/api/websocket`, the room as a query parameter. */
export function sameOriginUrl(room: string): string {
	const location = (globalThis as { location?: Location }).location;
	if (!location) throw new Error('No location to derive the WebSocket URL from; pass `url` to WebsocketClient');
	const protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
	return `${protocol}//${location.host}/api/websocket?room=${encodeURIComponent(room)}`;
}

/** A scheduled reconnect attempt. */
export interface NextRetry {
	/** 1 for the first retry after a drop. */
	attempt: number;
	/** When it will start, in epoch milliseconds of the client's clock. */
	at: number;
}

/**
 * A reactive connection to one room at a time.
 *
 * ```ts
 * const ws = new WebsocketClient<Meta, Events, ChatApi>();
 * await ws.connect(org_id);
 * ws.sessions;                       // reactive: who is here
 * ws.on('chat:message', (m) => …);   // typed by Events
 * await ws.rpc.send('hi');           // typed by ChatApi
 * ```
 *
 * Safe to construct during SSR: the constructor touches no browser global and opens nothing, and
 * `connect()` on the server resolves without connecting.
 *
 * @typeParam Meta the session metadata the handle assigns (`AuthSessionMeta` by default).
 * @typeParam Events the room's own events: name → payload type.
 * @typeParam Api the room's `RoomApi` class, for a typed `rpc`.
 */
export class WebsocketClient<Meta = AuthSessionMeta, Events extends object = EventMap, Api = unknown> {
	readonly #clock: Clock;
	readonly #liveGraceMs: number;
	readonly #listeners = new Listeners();
	readonly #presence: Presence<Meta>;
	readonly #feed = new ChangeFeed();
	readonly #transport: RoomTransport<RoomRpc<Api>>;
	/** Whether `connect()` may open sockets here (a browser, or a WebSocket/transport/worker was supplied). */
	readonly #canConnect: boolean;

	#status = $state<ConnectionStatus>('disconnected');
	#connected = $derived(this.#status === 'connected');
	#room = $state<string | null>(null);
	#error = $state.raw<RoomError | null>(null);
	#live = $state(false);
	#nextRetry = $state.raw<NextRetry | null>(null);
	#liveTimer: TimerHandle | null = null;
	/** Whether the current room has been joined since `connect()`: tells a reconnect from a first join. */
	#joinedOnce = false;
	#destroyed = false;

	constructor(options: WebsocketClientOptions<Api> = {}) {
		this.#clock = options.clock ?? systemClock;
		this.#liveGraceMs = options.liveGraceMs ?? 60_000;
		this.#presence = new Presence<Meta>(this.#clock, options.userLeaveGraceMs ?? 5_000);
		this.#canConnect =
			typeof window !== 'undefined' || options.WebSocket !== undefined || options.transport !== undefined || options.sharedWorker !== undefined;
		const listener: TransportListener = {
			status: (status, change) => this.#onStatus(status, change),
			event: (name, data) => this.#onEvent(name, data),
			warning: (warning) => this.#listeners.emit('ws:warning', warning),
		};
		const url = options.url ?? sameOriginUrl;
		const settings: SocketSettings = {
			reconnect: options.reconnect,
			pingIntervalMs: options.pingIntervalMs,
			pongTimeoutMs: options.pongTimeoutMs,
			callTimeoutMs: options.callTimeoutMs,
			sendQueueSize: options.sendQueueSize,
		};
		const direct = (listener: TransportListener) =>
			new SocketTransport<RoomRpc<Api>>(listener, {
				...settings,
				url: (room) => withSince(url(room), this.#feed.since),
				clock: options.clock,
				random: options.random,
				wakeSignals: options.wakeSignals,
				WebSocket: options.WebSocket,
			});
		// `sharedWorkerSupported()` reads no global but `window` on the server.
		const openPort = options.sharedWorker ?? (sharedWorkerSupported() ? openSharedWorkerPort : undefined);
		const shared = openPort !== undefined && (options.shared ?? (options.sharedWorker !== undefined || options.WebSocket === undefined));
		this.#transport = options.transport
			? options.transport(listener)
			: shared
				? sharedTransport(listener, { openPort: openPort!, url, since: () => this.#feed.since, settings, clock: options.clock, wakeSignals: options.wakeSignals }, direct)
				: direct(listener);
	}

	// ---------------------------------------------------------------------------------------------
	// Reactive state

	/** Where the connection stands (reactive). See {@link ConnectionStatus}. */
	get status(): ConnectionStatus {
		return this.#status;
	}

	/** `status === 'connected'` (reactive). */
	get connected(): boolean {
		return this.#connected;
	}

	/** The room connected (or connecting) to, or `null` (reactive). */
	get room(): string | null {
		return this.#room;
	}

	/**
	 * Every socket in the room, this one included (reactive). Unique by `ws_session_id`, replaced
	 * by the room's fresh list after each reconnect, and updated before any listener of the
	 * `session:*` event that changed it runs.
	 */
	get sessions(): readonly SessionInfo<Meta>[] {
		return this.#presence.sessions;
	}

	/**
	 * Sessions grouped by `meta.user_id` (reactive); sessions without a string `user_id` are not
	 * included. A user whose last session leaves stays listed, with no sessions, for
	 * `userLeaveGraceMs`, so a quick reconnect does not flicker.
	 */
	get users(): readonly UserPresence<Meta>[] {
		return this.#presence.users;
	}

	/**
	 * Whether events from the room can be trusted to be flowing (reactive): true while connected,
	 * and for `liveGraceMs` after a drop while reconnecting, so a blip does not make a local cache
	 * refetch everything. False before the first join, after `disconnect()` and once stopped.
	 */
	get isLive(): boolean {
		return this.#live;
	}

	/**
	 * The retry waiting out its backoff, if any (reactive): for a "reconnecting in 4 s" hint.
	 * `null` while connected, while an attempt is under way, and once stopped.
	 */
	get nextRetry(): NextRetry | null {
		return this.#nextRetry;
	}

	/**
	 * Why the client stopped for good (reactive): `ClosedByRoom` (kicked, unauthorized, forbidden),
	 * `RetriesExhausted`, or a `RoomError` with code `bad_url`. `null` while things are fine; cleared
	 * by the next successful join or by `disconnect()`.
	 */
	get error(): RoomError | null {
		return this.#error;
	}

	// ---------------------------------------------------------------------------------------------
	// Connection

	/**
	 * Joins `room` and stays joined: reconnects after drops, pings to notice dead sockets. Resolves
	 * once connected (the room's session list has arrived, so `sessions` is filled). Rejects with
	 * `ClosedByRoom` on a terminal close, `RetriesExhausted` when every retry failed, or
	 * `ConnectionLost` when `disconnect()` or another `connect()` supersedes it.
	 *
	 * Calling it with another room leaves the current one first (presence is reset). Calling it
	 * with the same room while connected or connecting returns the same outcome; after the client
	 * stopped, it starts over. On the server it resolves at once and connects nothing.
	 *
	 * `since` is where the app's own copy of the room's entities stands: the room's change head
	 * (`changeHead()` on the room, read *before* the data) as the page's load function saw it. The
	 * room then replays every change after it, so nothing made between the load and the socket is
	 * lost. Without it, the feed starts at the head the socket finds.
	 *
	 * The handle refuses a user who is not signed in, or not allowed in the room, with close code
	 * 4401/4403, which stops at once (`ClosedByRoom`). A handshake refused with a plain HTTP status
	 * looks to browser scripts exactly like an unreachable server (close 1006 before open), so it is
	 * retried with backoff and ends in `RetriesExhausted`.
	 */
	connect(room: string, options: { since?: number } = {}): Promise<void> {
		if (this.#destroyed) return Promise.reject(new RoomError('destroyed', 'This WebsocketClient was destroyed', 0));
		if (!this.#canConnect) return Promise.resolve();
		if (room !== this.#room) {
			this.#presence.clear();
			this.#feed.reset(room);
			this.#setLive(false);
			this.#joinedOnce = false;
			this.#room = room;
		}
		if (options.since !== undefined) this.#feed.startAt(options.since);
		if (this.#status === 'disconnected') this.#error = null;
		return this.#transport.connect(room);
	}

	/**
	 * Leaves the room: closes the socket and stops reconnecting. Listeners stay registered, so a
	 * later `connect()` picks up where the app left off. Calls in flight reject with
	 * `ConnectionLost`; queued sends reject with `SendDropped`.
	 */
	disconnect(): void {
		this.#transport.disconnect();
		this.#room = null;
		this.#error = null;
		this.#joinedOnce = false;
		this.#presence.clear();
		this.#setLive(false);
	}

	/** Disconnects and removes every listener and subscription. The client cannot be used again. */
	destroy(): void {
		if (this.#destroyed) return;
		this.disconnect();
		this.#transport.destroy();
		this.#listeners.clear();
		this.#destroyed = true;
	}

	// ---------------------------------------------------------------------------------------------
	// Talking to the room

	/**
	 * The room's API, typed from its `RoomApi` class. Calls made in the same macrotask travel in
	 * one frame, and pipelining works (`ws.rpc.counter(1).increment(2).value()`). Calls reject with
	 * `ConnectionLost` when not connected or when the connection drops before the answer, with
	 * `CallTimeout` after `callTimeoutMs`, and with a `RoomError` when the room refuses.
	 */
	get rpc(): RoomRpc<Api> {
		return this.#transport.rpc;
	}

	/**
	 * Sends an event to the room's `onMessage`; resolves with what `onMessage` returned. While
	 * (re)connecting it waits in a bounded queue and goes out once connected. Rejects with
	 * `ConnectionLost` when disconnected, `SendDropped` when pushed out of the queue, or a
	 * `RoomError` when the room refuses it (`rate_limited`, `forbidden_event`, …).
	 */
	send<K extends keyof Events & string>(event: K, data: Events[K]): Promise<unknown> {
		return this.#transport.send(event, data);
	}

	/**
	 * The live change feed for a `DatabaseClient`:
	 *
	 * ```ts
	 * const db = new DatabaseClient({ hooks: ws.databaseHooks() });
	 * ws.on('entity:resync', () => db.refresh()); // the gap was older than the room's log
	 * ```
	 *
	 * - `onSubscribe(callback)`: every change made elsewhere (`entityChanged` on the room), exactly
	 *   once and in the room's order, across reconnects: each new socket asks the room for what
	 *   this client missed (`?since=`), and replays of changes it already had are dropped.
	 * - `onEntityChange(change)`: called by `DatabaseClient` after its own writes. Nothing to do:
	 *   your server commits the write and calls `entityChanged`, and the room sends it to every
	 *   socket, this one included — which is how this browser's other tabs learn of it.
	 * - `isLive()`: true only while connected and caught up with the room's log; then the database
	 *   client can skip its stale-data refresh.
	 */
	databaseHooks(): DatabaseHooks {
		return {
			onSubscribe: (callback) => this.#feed.subscribe(callback),
			onEntityChange: () => {},
			isLive: () => this.#status === 'connected' && this.#feed.caughtUp,
		};
	}

	// ---------------------------------------------------------------------------------------------
	// Listening

	/**
	 * Calls `callback` for every `event` until the returned function is called. `'*'` receives
	 * every event as `{ event, data }`, after that event's own listeners. Listeners survive
	 * `disconnect()` and reconnects; `destroy()` removes them.
	 */
	on(event: '*', callback: (event: AnyEvent<WebsocketEvents<Meta, Events>>) => void): () => void;
	on<K extends keyof WebsocketEvents<Meta, Events> & string>(event: K, callback: (data: WebsocketEvents<Meta, Events>[K]) => void): () => void;
	on(event: string, callback: (data: never) => void): () => void {
		return this.#listeners.on(event, callback);
	}

	/** Like {@link on}, for the next occurrence only. The returned function cancels it. */
	once(event: '*', callback: (event: AnyEvent<WebsocketEvents<Meta, Events>>) => void): () => void;
	once<K extends keyof WebsocketEvents<Meta, Events> & string>(event: K, callback: (data: WebsocketEvents<Meta, Events>[K]) => void): () => void;
	once(event: string, callback: (data: never) => void): () => void {
		return this.#listeners.on(event, callback, true);
	}

	/** Removes `callback` from `event` (added with `on` or `once`); without a callback, every listener of `event`. */
	off<K extends keyof WebsocketEvents<Meta, Events> & string>(event: K | '*', callback?: (data: never) => void): void {
		this.#listeners.off(event, callback);
	}

	// ---------------------------------------------------------------------------------------------
	// From the transport

	#onEvent(name: string, data: unknown): void {
		// A change replayed after a reconnect that this client already had, or one from a room it
		// left, goes no further.
		if (name.startsWith('entity:') && !this.#feed.receive(name, data)) return;
		// Presence first, so listeners of the same event already see it applied.
		switch (name) {
			case 'session:list':
				this.#presence.replace((data as { sessions: SessionInfo<Meta>[] }).sessions);
				break;
			case 'session:connected':
				this.#presence.add(data as SessionInfo<Meta>);
				break;
			case 'session:disconnected':
				this.#presence.remove((data as SessionInfo<Meta>).ws_session_id);
				break;
		}
		this.#listeners.emit(name, data);
	}

	#onStatus(status: ConnectionStatus, change: StatusChange): void {
		const before = this.#status;
		// State first, so the listeners below already see it.
		this.#status = status;
		if (status !== 'connected') this.#feed.disconnected();
		if (change.error !== undefined) this.#error = change.error;
		this.#nextRetry =
			change.retryInMs === undefined ? null : { attempt: change.attempt ?? 1, at: this.#clock.now() + change.retryInMs };
		if (status === 'connected') {
			this.#setLive(true);
		} else if (status === 'reconnecting' && before === 'connected') {
			this.#startLiveGrace();
		} else if (status === 'disconnected') {
			// Stopped: whatever was known about the room is no longer being kept up to date. (On a
			// room switch this is the old room's end; the new room's presence is already reset.)
			if (change.room === this.#room) this.#presence.clear();
			this.#setLive(false);
		}

		if (status === 'connected') {
			const reconnected = this.#joinedOnce;
			this.#joinedOnce = true;
			this.#listeners.emit('ws:connected', { room: change.room, reconnected });
		} else if (before === 'connected') {
			this.#listeners.emit('ws:disconnected', {
				room: change.room,
				code: change.closeCode ?? 1006,
				reason: change.closeReason ?? '',
				reconnecting: status === 'reconnecting',
			});
		}
		if (status === 'disconnected' && change.error) this.#listeners.emit('error', change.error.toJSON());
	}

	#startLiveGrace(): void {
		this.#clearLiveTimer();
		this.#liveTimer = this.#clock.setTimeout(() => {
			this.#liveTimer = null;
			if (this.#status !== 'connected') this.#live = false;
		}, this.#liveGraceMs);
	}

	#setLive(live: boolean): void {
		this.#clearLiveTimer();
		if (this.#live !== live) this.#live = live;
	}

	#clearLiveTimer(): void {
		if (this.#liveTimer !== null) this.#clock.clearTimeout(this.#liveTimer);
		this.#liveTimer = null;
	}
}
