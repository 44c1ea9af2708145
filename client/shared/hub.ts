/**
 * `SharedHub`: the SharedWorker's brain. Each tab (each `WebsocketClient` of each page) talks to
 * it over its own `MessagePort`; the hub keeps one {@link SharedRoom} per room URL, counts the
 * tabs in it, and closes the room's socket when the last one leaves.
 *
 * Routing: a room's status and events go to every tab in that room, once each; a tab's call batch
 * or `send` goes to its room's socket and the answer comes back on that tab's port only.
 *
 * Liveness: ports never say that their page is gone. A page leaving normally says `bye` (on
 * `pagehide`); for a page that dies without a word the hub pings every tab each
 * `heartbeatIntervalMs` and releases one it has not heard from for `heartbeatMisses` intervals
 * (see `HEARTBEAT_INTERVAL_MS` in protocol.ts for the bound). A released tab that turns out to be
 * alive (it was frozen) is told `released` and joins again.
 *
 * Nothing here touches worker globals, so it runs under `bun test` over a `MessageChannel`.
 */
import { decodePayload, encodePayload } from '../../rpc/payload.js';
import { ConnectionLost } from '../../rpc/errors.js';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import type { WakeReason, WakeSignals } from '../reconnect.js';
import { HEARTBEAT_INTERVAL_MS, HEARTBEAT_MISSES, PROTOCOL_VERSION, readMessage, type HubStats, type TabMessage, type WorkerMessage } from './protocol.js';
import { SharedRoom, type RoomMember } from './room.js';
import { errorToWire } from './wire.js';

export interface SharedHubOptions {
	clock?: Clock;
	/** Random numbers in `[0, 1)` for backoff jitter. @default Math.random */
	random?: () => number;
	/** The WebSocket constructor. @default globalThis.WebSocket */
	WebSocket?: typeof WebSocket;
	/** The worker's own reasons to retry now (its `online` event); tabs add theirs. */
	wakeSignals?: WakeSignals;
	/** @default HEARTBEAT_INTERVAL_MS (2000) */
	heartbeatIntervalMs?: number;
	/** @default HEARTBEAT_MISSES (3) */
	heartbeatMisses?: number;
}

/** One port, i.e. one tab's client. */
class Tab implements RoomMember {
	join = 0;
	follows = false;
	since = -1;
	awaiting = false;
	debug = false;
	room: SharedRoom | null = null;
	lastHeard: number;
	/** Said `hello` with another protocol version: ignored from then on. */
	incompatible = false;
	readonly port: MessagePort;

	constructor(port: MessagePort, now: number) {
		this.port = port;
		this.lastHeard = now;
	}

	post(message: WorkerMessage): void {
		try {
			this.port.postMessage(message);
		} catch (error) {
			// A payload the structured clone refuses must not take the other tabs down with it.
			console.error('@delightstack/websocket: could not post to a tab', error);
		}
	}
}

export class SharedHub {
	readonly #clock: Clock;
	readonly #options: SharedHubOptions;
	readonly #intervalMs: number;
	readonly #misses: number;
	readonly #tabs = new Set<Tab>();
	readonly #rooms = new Map<string, SharedRoom>();
	#heartbeat: TimerHandle | null = null;
	#stopWaking: (() => void) | null = null;

	constructor(options: SharedHubOptions = {}) {
		this.#options = options;
		this.#clock = options.clock ?? systemClock;
		this.#intervalMs = options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS;
		this.#misses = options.heartbeatMisses ?? HEARTBEAT_MISSES;
		this.#stopWaking = options.wakeSignals?.((reason) => this.#wakeAll(reason)) ?? null;
	}

	/** A new port (a tab's `new SharedWorker(…)`): listen to it. */
	attach(port: MessagePort): void {
		const tab = new Tab(port, this.#clock.now());
		this.#track(tab);
		port.onmessage = (event: MessageEvent) => this.#receive(tab, event.data);
	}

	stats(): HubStats {
		return {
			tabs: this.#tabs.size,
			rooms: [...this.#rooms.values()].map((room) => ({
				room: room.name,
				url: room.url,
				tabs: room.size,
				status: room.status,
				sessions: room.sessionCount,
				position: room.position,
			})),
		};
	}

	/** Closes every socket and stops the heartbeat (tests; a worker simply ends). */
	dispose(): void {
		for (const tab of [...this.#tabs]) this.#release(tab);
		this.#stopWaking?.();
		this.#stopWaking = null;
	}

	// ---------------------------------------------------------------------------------------------

	#receive(tab: Tab, data: unknown): void {
		const message = readMessage<TabMessage>(data);
		if (!message || tab.incompatible) return;
		tab.lastHeard = this.#clock.now();
		// Heard from a tab the heartbeat gave up on: it was only frozen. It counts again (and, told
		// `released` back then, joins again by itself).
		if (!this.#tabs.has(tab) && message.type !== 'bye') this.#track(tab);

		switch (message.type) {
			case 'hello':
				tab.post({ type: 'welcome', version: PROTOCOL_VERSION });
				if (message.version !== PROTOCOL_VERSION) {
					tab.incompatible = true;
					this.#release(tab);
				}
				return;
			case 'join':
				return this.#join(tab, message);
			case 'follow':
				if (message.join === tab.join && typeof message.since === 'number') tab.room?.follow(tab, message.since);
				return;
			case 'leave':
				return this.#leave(tab);
			case 'call':
				return this.#call(tab, message.id, message.messages);
			case 'send':
				return this.#send(tab, message.id, message.event, message.payload);
			case 'wake':
				return tab.room?.wake(message.reason);
			case 'retry':
				return tab.room?.retryNow();
			case 'bye':
				return this.#release(tab);
			case 'stats':
				return tab.post({ type: 'stats', stats: this.stats() });
			case 'pong':
				return;
		}
	}

	#join(tab: Tab, message: Extract<TabMessage, { type: 'join' }>): void {
		if (tab.room && tab.room.url !== message.url) this.#leave(tab);
		tab.join = message.join;
		tab.debug = message.debug === true;
		let room = tab.room ?? this.#rooms.get(message.url);
		if (!room) {
			room = new SharedRoom({
				name: message.room,
				url: message.url,
				settings: message.settings,
				clock: this.#options.clock,
				random: this.#options.random,
				WebSocket: this.#options.WebSocket,
			});
			this.#rooms.set(message.url, room);
		}
		tab.room = room;
		room.admit(tab, typeof message.since === 'number' ? message.since : null, message.online !== false);
	}

	#leave(tab: Tab): void {
		const room = tab.room;
		if (!room) return;
		tab.room = null;
		room.remove(tab);
		if (room.size > 0) return;
		this.#rooms.delete(room.url);
		room.close();
	}

	#call(tab: Tab, id: number, messages: string[]): void {
		if (!tab.room) return tab.post({ type: 'replied', id, error: errorToWire(new ConnectionLost('Not connected to the room')) });
		tab.room.call(tab, messages).then(
			(replies) => tab.post({ type: 'replied', id, messages: replies }),
			(error: unknown) => tab.post({ type: 'replied', id, error: errorToWire(error) }),
		);
	}

	#send(tab: Tab, id: number, event: string, payload: Parameters<typeof decodePayload>[0]): void {
		if (!tab.room) return tab.post({ type: 'sent', id, error: errorToWire(new ConnectionLost('Not connected to a room: call connect() first')) });
		let data: unknown;
		try {
			data = decodePayload(payload);
		} catch (error) {
			return tab.post({ type: 'sent', id, error: errorToWire(error) });
		}
		tab.room.send(event, data).then(
			(result) => tab.post({ type: 'sent', id, payload: encodePayload(result) }),
			(error: unknown) => tab.post({ type: 'sent', id, error: errorToWire(error) }),
		);
	}

	#wakeAll(reason: WakeReason): void {
		for (const room of this.#rooms.values()) room.wake(reason);
	}

	// ---------------------------------------------------------------------------------------------
	// Liveness

	#track(tab: Tab): void {
		this.#tabs.add(tab);
		this.#heartbeat ??= this.#clock.setTimeout(() => this.#beat(), this.#intervalMs);
	}

	/** Stops counting a tab: out of its room (closing the socket if it was the last), out of the heartbeat. */
	#release(tab: Tab): void {
		this.#leave(tab);
		this.#tabs.delete(tab);
		if (this.#tabs.size === 0 && this.#heartbeat !== null) {
			this.#clock.clearTimeout(this.#heartbeat);
			this.#heartbeat = null;
		}
	}

	#beat(): void {
		this.#heartbeat = null;
		const deadline = this.#clock.now() - this.#intervalMs * this.#misses;
		for (const tab of [...this.#tabs]) {
			if (tab.lastHeard < deadline) {
				// Probably gone; if it was only frozen, this tells it to join again when it wakes.
				tab.post({ type: 'released' });
				this.#release(tab);
			} else {
				tab.post({ type: 'ping' });
			}
		}
		if (this.#tabs.size > 0) this.#heartbeat = this.#clock.setTimeout(() => this.#beat(), this.#intervalMs);
	}
}
