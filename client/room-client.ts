/**
 * `RoomClientCore`: everything a client of a room does, written once. `WebsocketClient` (runes,
 * client/websocket-client.svelte.ts) and the headless `RoomClient` (client/headless.ts) are this
 * class with their own state storage ({@link Reactivity}) and their own way of reaching the room.
 *
 * The transport underneath (a `SocketTransport` of the client's own, a chunk loaded on demand, or
 * the SharedWorker's socket through a `PortTransport`) owns the wire: socket, reconnects, keep-alive, send queue. This class
 * keeps what the app reads (status, presence, error, retry schedule), the listeners, and the
 * change feed.
 */
import { CallBatcher, stableMain } from '../calls/call-batcher.js';
import { recorderChunk } from '../calls/deferred-batch.js';
import { sessionChunk } from '../calls/sessions.js';
import { RoomError } from '../rpc/errors.js';
import { PRESENCE_METHOD } from '../rpc/protocol.js';
import {
	isClientLocalEvent,
	type AuthSessionMeta,
	type EventMap,
	type PresencePage,
	type PresenceUpdate,
	type RoomEvents,
	type RoomRpc,
	type SessionInfo,
} from '../rpc/types.js';
import { ChangeFeed, type DatabaseHooks } from './change-feed.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { debugLogger, type DebugOption } from './debug.js';
import { Listeners, type AnyEvent, type WebsocketEvents } from './events.js';
import { directSocket } from './loading-transport.js';
import { payloadChunk } from './payload-codec.js';
import { Presence, type RoomPresence, type UserPresence } from './presence.js';
import type { Cell, Reactivity } from './reactivity.js';
import type { ReconnectOptions, WakeSignals } from './reconnect.js';
import type { SocketSettings } from './shared/protocol.js';
import { withSince } from './shared/since.js';
import type { ConnectionStatus, RoomTransport, StatusChange, TransportHandlers } from './transport.js';

/** The options both clients take. */
export interface RoomClientOptions<Api = unknown> {
	/** Backoff, retry limit and terminal close codes. See {@link ReconnectOptions} for defaults. */
	reconnect?: ReconnectOptions;
	/**
	 * How long one connection attempt may take, from opening the socket until the room's session
	 * list arrives (the WebSocket handshake and the join). A server that accepts the TCP connection
	 * and never answers the upgrade — e.g. `vite dev` without a proxy for the socket path — would
	 * otherwise leave the client `'connecting'` forever. Past it, the attempt fails with a
	 * `RoomError` of code `connect_timeout` (set on `error`, logged once with `console.warn`) and
	 * the reconnect policy goes on as after any failed attempt. @default 10000
	 */
	connectTimeoutMs?: number;
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
	/** The WebSocket constructor. @default `globalThis.WebSocket`, looked up when connecting */
	WebSocket?: typeof WebSocket;
	/** When to retry at once instead of waiting out a backoff. @default the browser's `online`, `offline` and visibility events */
	wakeSignals?: WakeSignals;
	/**
	 * Logs what the connection does, one line each: frames in and out (cut at 200 characters),
	 * socket opens and closes, and every reconnect decision (why the socket closed, the next
	 * delay, or the terminal code or error that stops it). `true` logs with `console.debug`; a
	 * function receives each line instead.
	 *
	 * With the SharedWorker's socket, the worker sends its lines for the room to the tabs that
	 * joined it with `debug` on, and each such tab logs them (or hands them to its function) like
	 * its own, prefixed `[shared]`. @default false
	 */
	debug?: DebugOption;
}

/** A scheduled reconnect attempt. */
export interface NextRetry {
	/** 1 for the first retry after a drop. */
	attempt: number;
	/** When it will start, in epoch milliseconds of the client's clock. */
	at: number;
}

/** How a concrete client reaches rooms, given the state the core keeps. */
export interface ClientSetup<Api> {
	reactivity: Reactivity;
	/** The room's WebSocket URL (without `since`). */
	url: (room: string) => string;
	/** Whether `connect()` may open anything here (false while rendering on the server). */
	canConnect: boolean;
	/** Builds the transport; `direct` builds a `SocketTransport` of this client's own from the options. */
	transport(
		handlers: TransportHandlers,
		direct: (handlers: TransportHandlers) => RoomTransport<RoomRpc<Api>>,
		context: TransportContext,
	): RoomTransport<RoomRpc<Api>>;
	/** For messages: the class (`WebsocketClient`) and how apps usually name an instance (`ws`). */
	names: { className: string; variable: string };
}

/** What the core offers the transport it is given. */
export interface TransportContext {
	/** The client's change-feed position, for `?since=` (`null`: it does not follow entity changes, so no catch-up is asked for). */
	since(): number | null;
	/** The `debug` option as a logger, if on. */
	debug: ((line: string) => void) | undefined;
	/** The socket settings from the options, for a socket the client does not open itself. */
	settings: SocketSettings;
}

/**
 * The client logic both clients share. Not exported from the package: use `WebsocketClient` in
 * Svelte, `RoomClient` (`@delightstack/websocket/headless`) anywhere else.
 */
export class RoomClientCore<Meta = AuthSessionMeta, Events extends object = EventMap, Api = unknown, Messages extends object = Events> {
	readonly #clock: Clock;
	readonly #liveGraceMs: number;
	readonly #reactivity: Reactivity;
	readonly #listeners = new Listeners();
	readonly #presence: Presence<Meta>;
	readonly #feed = new ChangeFeed();
	readonly #transport: RoomTransport<RoomRpc<Api>>;
	readonly #canConnect: boolean;
	readonly #names: { className: string; variable: string };
	readonly #debug: ((line: string) => void) | undefined;
	readonly #rpc: RoomRpc<Api>;

	readonly #status: Cell<ConnectionStatus>;
	/** `status === 'connected'`, a cell of its own: what reads it reruns when it changes, not on every status change. */
	readonly #connected: Cell<boolean>;
	readonly #room: Cell<string | null>;
	readonly #error: Cell<RoomError | null>;
	readonly #live: Cell<boolean>;
	readonly #nextRetry: Cell<NextRetry | null>;
	#liveTimer: TimerHandle | null = null;
	/** A `connect_timeout` was logged since the last join: it is logged once, not per attempt. */
	#timeoutWarned = false;
	/** Whether the current room has been joined since `connect()`: tells a reconnect from a first join. */
	#joinedOnce = false;
	#destroyed = false;

	constructor(options: RoomClientOptions<Api>, setup: ClientSetup<Api>) {
		const reactivity = (this.#reactivity = setup.reactivity);
		this.#clock = options.clock ?? systemClock;
		this.#liveGraceMs = options.liveGraceMs ?? 60_000;
		// Pages go through `rpc`, so they fail like any call when there is no room to ask.
		const pager = (after: string, limit: number | undefined) =>
			(this.#rpc as unknown as Record<string, (after: string, limit?: number) => Promise<PresencePage<Meta>>>)[PRESENCE_METHOD]!(after, limit);
		this.#presence = new Presence<Meta>(this.#clock, options.userLeaveGraceMs ?? 5_000, reactivity, pager);
		this.#status = reactivity.cell<ConnectionStatus>('disconnected');
		this.#connected = reactivity.cell(false);
		this.#room = reactivity.cell<string | null>(null);
		this.#error = reactivity.cell<RoomError | null>(null);
		this.#live = reactivity.cell(false);
		this.#nextRetry = reactivity.cell<NextRetry | null>(null);
		this.#canConnect = setup.canConnect;
		this.#names = setup.names;
		this.#debug = debugLogger(options.debug);

		const handlers: TransportHandlers = {
			status: (status, change) => this.#onStatus(status, change),
			event: this.#onEvent,
			warning: (warning) => this.#listeners.emit('ws:warning', warning),
		};
		const settings: SocketSettings = {
			reconnect: options.reconnect,
			connectTimeoutMs: options.connectTimeoutMs,
			pingIntervalMs: options.pingIntervalMs,
			pongTimeoutMs: options.pongTimeoutMs,
			callTimeoutMs: options.callTimeoutMs,
			sendQueueSize: options.sendQueueSize,
		};
		// A socket of the client's own reads its settings from the client's options (and ignores the rest).
		// Its code is a chunk of its own, loaded when such a transport is built (see loading-transport.ts).
		const direct = (handlers: TransportHandlers) =>
			directSocket<RoomRpc<Api>>(handlers, { ...options, debug: this.#debug, url: (room) => withSince(setup.url(room), this.#feed.ask()) });
		this.#transport = setup.transport(handlers, direct, { since: () => this.#feed.ask(), debug: this.#debug, settings });

		// Calls on a client that cannot reach a room say why, rather than "connection lost". Their
		// batcher is built on first use: nearly every client only ever calls a room it is in.
		let refusing: CallBatcher<RoomRpc<Api>> | undefined;
		this.#rpc = stableMain(() =>
			this.#destroyed || this.#room.get() === null
				? (refusing ??= new CallBatcher(() => Promise.reject(this.#destroyed ? this.#destroyedError() : this.#notConnectedError()))).main
				: this.#transport.rpc,
		);
	}

	// ---------------------------------------------------------------------------------------------
	// State

	/** Where the connection stands. See {@link ConnectionStatus}. */
	get status(): ConnectionStatus {
		return this.#status.get();
	}

	/** `status === 'connected'`. */
	get connected(): boolean {
		return this.#connected.get();
	}

	/** The room connected (or connecting) to, or `null`. */
	get room(): string | null {
		return this.#room.get();
	}

	/**
	 * Who is in the room, the same way in both presence modes: `count`, `members`, and `more()` to
	 * page through a room too big to list (the room's `presence: { window }`). See {@link RoomPresence}.
	 */
	get presence(): RoomPresence<Meta> {
		return this.#presence.view;
	}

	/**
	 * Every socket in the room, this one included (in window presence: the sockets of the members
	 * in the window and of the pages loaded, see {@link presence}). Unique by `ws_session_id`,
	 * replaced by the room's fresh list after each reconnect, and updated before any listener of the
	 * `session:*` event that changed it runs.
	 */
	get sessions(): readonly SessionInfo<Meta>[] {
		return this.#presence.sessions;
	}

	/**
	 * Sessions grouped by `meta.user_id`; sessions without a string `user_id` are not included. A
	 * user whose last session leaves stays listed, with no sessions, for `userLeaveGraceMs`, so a
	 * quick reconnect does not flicker.
	 */
	get users(): readonly UserPresence<Meta>[] {
		return this.#presence.users;
	}

	/**
	 * Whether events from the room can be trusted to be flowing: true while connected, and for
	 * `liveGraceMs` after a drop while reconnecting, so a blip does not make a local cache refetch
	 * everything. False before the first join, after `disconnect()` and once stopped.
	 */
	get isLive(): boolean {
		return this.#live.get();
	}

	/**
	 * The retry waiting out its backoff, if any: for a "reconnecting in 4 s — Retry now" hint
	 * (see {@link retryNow}). `null` while connected, while an attempt is under way, while the
	 * browser reports being offline (the next attempt starts when it is back online), and once
	 * stopped.
	 */
	get nextRetry(): NextRetry | null {
		return this.#nextRetry.get();
	}

	/**
	 * What went wrong, for the app to show. While reconnecting: why the last attempt failed, when
	 * the client could tell (`connect_timeout`: the server never answered). Once stopped:
	 * `ClosedByRoom` (kicked, unauthorized, forbidden), `RetriesExhausted`, or a `RoomError` with
	 * code `bad_url`. `null` while things are fine; cleared by the next successful join or by
	 * `disconnect()`.
	 */
	get error(): RoomError | null {
		return this.#error.get();
	}

	// ---------------------------------------------------------------------------------------------
	// Connection

	/**
	 * Joins `room` and stays joined: reconnects after drops, pings to notice dead sockets. Resolves
	 * once connected (the room's session list has arrived, so `sessions` is filled). Rejects with
	 * `ClosedByRoom` on a terminal close, `RetriesExhausted` when every retry failed, or
	 * `ConnectionLost` when `disconnect()` or another `connect()` supersedes it; with a `TypeError`
	 * when `room` is not a non-empty string.
	 *
	 * Calling it with another room leaves the current one first (presence is reset). Calling it
	 * with the same room while connected or connecting returns the same outcome; after the client
	 * stopped, it starts over. Reads no reactive state on the caller's behalf, so calling it inside
	 * `$effect` does not make the effect run again.
	 *
	 * `since` is where the app's own copy of the room's entities stands: the room's change head
	 * (`changeHead()` on the room, read *before* the data) as the page's load function saw it. The
	 * room then replays every change after it, so nothing made between the load and the socket is
	 * lost. Without it, the feed starts at the head the socket finds.
	 *
	 * The handle refuses a user who is not signed in, or not allowed in the room, with close code
	 * 4401/4403, which stops at once (`ClosedByRoom`). A handshake refused with a plain HTTP status
	 * looks to scripts exactly like an unreachable server (close 1006 before open), so it is retried
	 * with backoff and ends in `RetriesExhausted`.
	 */
	connect(room: string, options: { since?: number } = {}): Promise<void> {
		return this.#reactivity.untrack(() => {
			if (typeof room !== 'string' || room === '') {
				const { className, variable } = this.#names;
				const got = room === '' ? 'an empty string' : typeof room;
				return Promise.reject(
					new TypeError(
						`${className}.connect(room) needs the room to join, a non-empty string such as the organisation id (${variable}.connect(data.org_id)); got ${got}`,
					),
				);
			}
			if (this.#destroyed) return Promise.reject(this.#destroyedError());
			if (!this.#canConnect) return Promise.resolve();
			if (room !== this.#room.get()) {
				this.#presence.clear();
				this.#feed.reset(room);
				this.#setLive(false);
				this.#joinedOnce = false;
				this.#room.set(room);
			}
			if (options.since !== undefined) {
				this.#feed.startAt(options.since);
				// Joined already: a shared socket learns it now (a socket of our own on its next attempt).
				if (this.#transport.room === room && this.#transport.status !== 'disconnected') this.#transport.follow?.(options.since);
			}
			if (this.#status.get() === 'disconnected') this.#error.set(null);
			return this.#transport.connect(room);
		});
	}

	/**
	 * Leaves the room: closes the socket and stops reconnecting. Listeners stay registered, so a
	 * later `connect()` picks up where the app left off. Calls in flight reject with
	 * `ConnectionLost`; queued sends reject with `SendDropped`.
	 */
	disconnect(): void {
		this.#reactivity.untrack(() => {
			this.#transport.disconnect();
			this.#room.set(null);
			this.#error.set(null);
			this.#joinedOnce = false;
			this.#presence.clear();
			this.#setLive(false);
		});
	}

	/** Disconnects and removes every listener and subscription. The client cannot be used again. */
	destroy(): void {
		this.#reactivity.untrack(() => {
			if (this.#destroyed) return;
			this.disconnect();
			this.#transport.destroy();
			this.#listeners.clear();
			this.#destroyed = true;
		});
	}

	/**
	 * Tries to connect now instead of waiting out the backoff (a "Retry now" button next to
	 * {@link nextRetry}). While an attempt is under way, or connected, it does nothing; after the
	 * client gave up (`RetriesExhausted`) it starts over with a fresh retry count. A terminal close
	 * (kicked, unauthorized) is not undone: call `connect()` for that.
	 */
	retryNow(): void {
		this.#reactivity.untrack(() => {
			if (!this.#destroyed && this.#room.get() !== null) this.#transport.retryNow();
		});
	}

	// ---------------------------------------------------------------------------------------------
	// Talking to the room

	/**
	 * The room's API, typed from its `RoomApi` class. Calls made in the same macrotask travel in
	 * one frame, and pipelining works (`rpc.counter(1).increment(2).value()`). The same object
	 * every time: keep it (`const rpc = ws.rpc`) and each later macrotask's calls form a new batch.
	 *
	 * Calls reject with a `RoomError` of code `not_connected` before `connect()` (or after
	 * `disconnect()`), `destroyed` after `destroy()`, `ConnectionLost` while (re)connecting or when
	 * the connection drops before the answer, `CallTimeout` after `callTimeoutMs`, and with the
	 * room's own `RoomError` (its `code`, `status`, `message`) when a method throws one or the
	 * room refuses.
	 */
	get rpc(): RoomRpc<Api> {
		return this.#rpc;
	}

	/**
	 * Sends an event to the room's `onMessage`; resolves with what `onMessage` returned. While
	 * (re)connecting it waits in a bounded queue and goes out once connected. Rejects with a
	 * `RoomError`: `forbidden_event` at once for the client's own event names (`ws:*`, `*`),
	 * `not_connected` / `destroyed` like `rpc`, `ConnectionLost` when the connection stops,
	 * `SendDropped` when pushed out of the queue, or the room's refusal (`rate_limited`,
	 * `forbidden_event`, …).
	 */
	send<K extends keyof Messages & string>(event: K, data: Messages[K]): Promise<unknown> {
		return this.#reactivity.untrack(() => {
			if (isClientLocalEvent(event)) {
				return Promise.reject(
					new RoomError('forbidden_event', `"${event}" is a name the client uses for its own events (ws:*, *); the room never receives it`, 403),
				);
			}
			if (this.#destroyed) return Promise.reject(this.#destroyedError());
			if (this.#room.get() === null) return Promise.reject(this.#notConnectedError());
			return this.#transport.send(event, data);
		});
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
	 *
	 * Calling it is what makes the client follow entity changes: until then (or a `since` given to
	 * `connect`) its socket asks the room for no catch-up. Call it before `connect()`; called later,
	 * on an open socket, the feed continues from the last change that socket delivered, or, if none
	 * came yet, from the next one (`isLive()` turns true then); a drop before that ends in
	 * `entity:resync`.
	 */
	databaseHooks(): DatabaseHooks {
		this.#follow();
		return {
			onSubscribe: (callback) => {
				this.#follow();
				return this.#feed.subscribe(callback);
			},
			onEntityChange: () => {},
			isLive: () => this.#status.get() === 'connected' && this.#feed.caughtUp,
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

	/** Every event from the room, as the transport's `event` handler: a field, so it is called directly, a call less per event. */
	readonly #onEvent = (name: string, data: unknown): void => {
		// `ws:*` and `*` are this client's own events: a room cannot make it emit them.
		if (isClientLocalEvent(name)) return this.#debug?.(`ignored "${name}" from the room: a client-local event name`);
		// A change replayed after a reconnect that this client already had, or one from a room it
		// left, goes no further.
		if (name.startsWith('entity:')) {
			const delivered = this.#feed.receive(name, data);
			if (delivered === null) return;
			name = delivered;
		}
		// Presence first, so listeners of the same event already see it applied.
		switch (name) {
			case 'session:list': {
				const list = data as RoomEvents<Meta>['session:list'];
				this.#presence.replace(list.sessions, list.window);
				break;
			}
			case 'session:update':
				this.#presence.update(data as PresenceUpdate<Meta>);
				break;
			case 'session:connected':
				this.#presence.add(data as SessionInfo<Meta>);
				break;
			case 'session:disconnected':
				this.#presence.remove((data as SessionInfo<Meta>).ws_session_id);
				break;
		}
		this.#listeners.emit(name, data);
	};

	#onStatus(status: ConnectionStatus, change: StatusChange): void {
		const before = this.#status.get();
		// State first, so the listeners below already see it.
		this.#status.set(status);
		this.#connected.set(status === 'connected');
		if (status === 'connected') this.#feed.joined();
		else this.#feed.disconnected();
		if (change.error !== undefined) this.#error.set(change.error);
		if (status === 'connected') this.#timeoutWarned = false;
		if (change.error?.code === 'connect_timeout' && !this.#timeoutWarned) {
			// Otherwise silent: the page would just say "reconnecting" (or "connecting") forever.
			this.#timeoutWarned = true;
			console.warn(`@delightstack/websocket: ${change.error.message}. Retrying with backoff.`);
		}
		this.#nextRetry.set(change.retryInMs === undefined ? null : { attempt: change.attempt ?? 1, at: this.#clock.now() + change.retryInMs });
		if (status === 'connected') {
			this.#setLive(true);
			// Calls other than one with JSON data load the call recorder on demand, those that need a
			// capnweb session (pipelining, stubs, several at once) capnweb, and payloads JSON cannot hold
			// (a Date, a Map…) the payload decoder; fetched now, the first of them need not wait.
			recorderChunk.prefetch();
			sessionChunk.prefetch();
			payloadChunk.prefetch();
		} else if (status === 'reconnecting' && before === 'connected') {
			this.#startLiveGrace();
		} else if (status === 'disconnected') {
			// Stopped: whatever was known about the room is no longer being kept up to date. (On a
			// room switch this is the old room's end; the new room's presence is already reset.)
			if (change.room === this.#room.get()) this.#presence.clear();
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

	/** The app asked for entity changes: follow them from now on, and tell a shared socket if already joined. */
	#follow(): void {
		this.#reactivity.untrack(() => {
			const connected = this.#status.get() === 'connected';
			if (this.#feed.follow(connected) && this.#room.get() !== null && this.#transport.status !== 'disconnected') this.#transport.follow?.(-1);
		});
	}

	#startLiveGrace(): void {
		this.#clearLiveTimer();
		this.#liveTimer = this.#clock.setTimeout(() => {
			this.#liveTimer = null;
			if (this.#status.get() !== 'connected') this.#live.set(false);
		}, this.#liveGraceMs);
	}

	#setLive(live: boolean): void {
		this.#clearLiveTimer();
		if (this.#live.get() !== live) this.#live.set(live);
	}

	#clearLiveTimer(): void {
		if (this.#liveTimer !== null) this.#clock.clearTimeout(this.#liveTimer);
		this.#liveTimer = null;
	}

	#destroyedError(): RoomError {
		return new RoomError('destroyed', `This ${this.#names.className} was destroyed; create a new one`, 0);
	}

	#notConnectedError(): RoomError {
		return this.#canConnect
			? new RoomError('not_connected', `Not in a room: call ${this.#names.variable}.connect(room) before calling the room`, 0)
			: new RoomError('not_connected', 'Not in a room: connect() does nothing while rendering on the server', 0);
	}
}
