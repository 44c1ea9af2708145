/**
 * `SharedRoom`: one room's socket inside the SharedWorker, and the tabs that share it.
 *
 * It runs one `SocketTransport` (reconnects, keep-alive, send queue: all unchanged) and fans what
 * it reports out to every member tab, once each. Because a tab may arrive while the socket is
 * already up, the room also keeps what a newcomer needs at once: the status, the presence list
 * (from `session:list`, `session:connected`, `session:disconnected`) and the change-feed position.
 *
 * Entity changes cost nothing here until a tab follows them (joins with a `since`, or says `follow`
 * later): until then the socket asks the room for no catch-up. From then on the socket's feed asks
 * for one on every reconnect. The position is the last entity change relayed (or the head of the
 * last `entity:synced`); every following member has seen everything relayed since it followed, so
 * reconnecting with `since=<position>` replays exactly what all of them missed.
 *
 * A following tab gets its verdict (`entity:synced`, or `entity:resync` to refetch) once the socket
 * can vouch for it: at once if the socket knows its position, else with the socket's next
 * `entity:synced`, or right after the first change on a socket that was opened without a catch-up
 * (that change names the position). A tab whose own position is older than what the socket can
 * replay for it gets `entity:resync`, so it never silently misses a change.
 */
import { encodePayload, type EncodedPayload } from '../../rpc/payload.js';
import type { EntityEvent, PresenceUpdate, PresenceWindow, RoomEvents, SessionInfo } from '../../rpc/types.js';
import { ChangeFeed } from '../change-feed.js';
import { applyWindowChange, sessionInfo } from '../presence.js';
import type { Clock } from '../clock.js';
import type { WakeReason } from '../reconnect.js';
import { SocketTransport } from '../socket-transport.js';
import type { ConnectionStatus, StatusChange, TransportHandlers, TransportWarning } from '../transport.js';
import type { SocketSettings, WorkerMessage } from './protocol.js';
import { withSince } from './since.js';
import { changeToWire } from './wire.js';

/** One tab as a room sees it. */
export interface RoomMember {
	/** The tab's join number: stamped on everything sent about this room. */
	join: number;
	/** The tab follows entity changes: it hears `entity:synced` and `entity:resync`. */
	follows: boolean;
	/** Where the tab's own feed stood when it followed (-1: from the head). */
	since: number;
	/** The tab follows and has not had this socket's verdict yet. */
	awaiting: boolean;
	/** The tab wants the socket's debug lines. */
	debug: boolean;
	post(message: WorkerMessage): void;
}

export interface SharedRoomOptions {
	/** The room's name, as the tabs' `connect(room)` gave it. */
	name: string;
	/** The room's absolute WebSocket URL without `since`. */
	url: string;
	settings: SocketSettings;
	clock?: Clock;
	random?: () => number;
	WebSocket?: typeof WebSocket;
}

export class SharedRoom {
	readonly name: string;
	readonly url: string;
	readonly #members = new Set<RoomMember>();
	readonly #transport: SocketTransport;
	readonly #wakers = new Set<(reason: WakeReason) => void>();
	#lastChange: StatusChange;
	#sessions = new Map<string, SessionInfo<unknown>>();
	/** Window presence: the counts and the cursor after the window, for tabs that join later. */
	#window: PresenceWindow | undefined;
	/** The socket's change-feed position, deduplicating replays the same way each tab's feed does. */
	readonly #feed = new ChangeFeed();
	/** The room name the room itself puts in entity events. */
	#feedRoom: string;
	/** The `since` the current socket was opened with (`null`: none), where its replay starts. */
	#asked: number | null = null;

	constructor(options: SharedRoomOptions) {
		this.name = options.name;
		this.url = options.url;
		this.#feedRoom = options.name;
		this.#lastChange = { room: options.name };
		const handlers: TransportHandlers = {
			status: (status, change) => this.#onStatus(status, change),
			event: (name, data) => this.#onEvent(name, data),
			warning: (warning) => this.#onWarning(warning),
		};
		this.#transport = new SocketTransport(handlers, {
			...options.settings,
			url: () => withSince(this.url, (this.#asked = this.#feed.ask())),
			clock: options.clock,
			random: options.random,
			WebSocket: options.WebSocket,
			// To the tabs that asked (their `debug` option): the worker's own console is out of sight.
			debug: (line) => {
				for (const member of this.#members) if (member.debug) member.post({ type: 'debug', join: member.join, line });
			},
			// The worker has no document: tabs forward their wake-ups (see `wake`).
			wakeSignals: (wake) => {
				this.#wakers.add(wake);
				return () => void this.#wakers.delete(wake);
			},
		});
	}

	get size(): number {
		return this.#members.size;
	}

	get status(): ConnectionStatus {
		return this.#transport.status;
	}

	get position(): number {
		return this.#feed.position;
	}

	get sessionCount(): number {
		return this.#sessions.size;
	}

	/**
	 * Adds a tab (whose browser says it is `online` or not) and brings it up to date at once: while
	 * connected, a synthetic `session:list`, its change-feed verdict if it follows (`since` not
	 * `null`) and the socket can give one, and `'connected'`; otherwise the current status (and a
	 * connection attempt if the socket had stopped).
	 */
	admit(member: RoomMember, since: number | null, online: boolean): void {
		this.#members.add(member);
		// The newcomer's view of the network is as current as anyone's.
		if (online === this.#transport.offline) this.wake(online ? 'online' : 'offline');
		member.follows = false;
		member.awaiting = false;
		const status = this.#transport.status;
		if (status === 'connected') this.#postEvent(member, 'session:list', encodePayload(this.#synthesizedList()));
		// Before a connection attempt below: its URL asks for a catch-up if anyone follows.
		if (since !== null) this.#follow(member, since);
		switch (status) {
			case 'connected':
				member.post({ type: 'status', join: member.join, status: 'connected', change: { room: this.name, error: null } });
				return;
			case 'disconnected':
				// New, or stopped for good (kicked, retries exhausted): a tab's connect() starts over,
				// as it would on a direct socket. Every member hears `'connecting'`.
				this.#transport.connect(this.name).catch(() => {});
				return;
			default:
				member.post({ type: 'status', join: member.join, status, change: changeToWire(this.#lastChange) });
		}
	}

	/** A member started following entity changes from `since` (its `follow` message). */
	follow(member: RoomMember, since: number): void {
		if (this.#members.has(member)) this.#follow(member, since);
	}

	/** Drops a tab. The hub closes the room when the last one is gone. */
	remove(member: RoomMember): void {
		this.#members.delete(member);
	}

	/**
	 * Carries one tab's batch to the room; the reply is that tab's alone, and so is the `error`
	 * event a refusal of the batch raises (as on a direct socket: the event, then the rejection).
	 */
	call(member: RoomMember, messages: string[]): Promise<string[]> {
		return this.#transport.callBatch(messages, (error) => {
			if (this.#members.has(member)) this.#postEvent(member, 'error', encodePayload(error.toJSON()));
		});
	}

	send(event: string, data: unknown): Promise<unknown> {
		return this.#transport.send(event, data);
	}

	/** A tab's browser went online or offline, or the tab became visible. */
	wake(reason: WakeReason): void {
		for (const wake of this.#wakers) wake(reason);
	}

	/** A tab's app asked to retry now. */
	retryNow(): void {
		this.#transport.retryNow();
	}

	/** The last tab left: close the socket (the room announces the disconnect). */
	close(): void {
		this.#members.clear();
		this.#transport.destroy();
	}

	// ---------------------------------------------------------------------------------------------

	#onStatus(status: ConnectionStatus, change: StatusChange): void {
		this.#lastChange = change;
		if (status === 'connected') this.#feed.joined();
		else this.#feed.disconnected();
		const wire = changeToWire(change);
		for (const member of this.#members) member.post({ type: 'status', join: member.join, status, change: wire });
	}

	#onEvent(name: string, data: unknown): void {
		switch (name) {
			case 'session:list': {
				const list = data as RoomEvents<unknown>['session:list'];
				this.#sessions = new Map(list.sessions.map((s) => [s.ws_session_id, sessionInfo(s)]));
				this.#window = list.window;
				break;
			}
			case 'session:update':
				this.#windowUpdate(data as PresenceUpdate<unknown>);
				break;
			case 'session:connected':
				this.#sessions.set((data as SessionInfo<unknown>).ws_session_id, sessionInfo(data as SessionInfo<unknown>));
				break;
			case 'session:disconnected':
				this.#sessions.delete((data as SessionInfo<unknown>).ws_session_id);
				break;
		}
		if (name.startsWith('entity:')) return this.#onEntityEvent(name, data);
		const payload = encodePayload(data);
		for (const member of this.#members) this.#postEvent(member, name, payload);
	}

	#onEntityEvent(name: string, data: unknown): void {
		const room = (data as Partial<EntityEvent>).room;
		if (typeof room === 'string') this.#feedRoom = room;
		const named = this.#feed.caughtUp;
		// The feed follows no room by name (the socket is this room's), so it only drops replays.
		const delivered = this.#feed.receive(name, data);
		if (delivered === null) return;
		if (delivered === 'entity:synced' || delivered === 'entity:resync') {
			const head = (data as { head: number }).head;
			// The replay started at what the socket asked for (from the head: nothing before it).
			const from = this.#asked !== null && this.#asked >= 0 ? this.#asked : head;
			for (const member of this.#members) {
				if (member.follows) this.#verdict(member, delivered === 'entity:resync' || (member.awaiting && member.since >= 0 && member.since < from), head);
			}
			return;
		}
		const payload = encodePayload(data);
		for (const member of this.#members) this.#postEvent(member, name, payload);
		if (named || !this.#feed.caughtUp) return;
		// The first change on a socket opened without a catch-up names its position: the tabs that
		// followed meanwhile had everything after it; what came before, only if they already knew it.
		const seq = (data as EntityEvent).seq;
		for (const member of this.#members) if (member.awaiting) this.#verdict(member, member.since >= 0 && member.since < seq - 1, seq);
	}

	/**
	 * `member` follows from `since`. The socket follows too (asking for a catch-up on its next
	 * connection, from the member's position if it has none of its own); while connected the member
	 * gets its verdict at once if the socket can vouch for its position, else when it can.
	 */
	#follow(member: RoomMember, since: number): void {
		const feed = this.#feed;
		const connected = this.#transport.status === 'connected';
		member.follows = true;
		member.since = since;
		member.awaiting = true;
		// The first to know its position sets where the next socket's replay starts.
		if (!connected && since >= 0 && feed.position < 0 && !feed.owed) feed.startAt(since);
		else feed.follow(connected);
		if (connected && feed.caughtUp) this.#verdict(member, since >= 0 && since < feed.position, feed.position);
	}

	#verdict(member: RoomMember, resync: boolean, head: number): void {
		member.awaiting = false;
		this.#postEvent(member, resync ? 'entity:resync' : 'entity:synced', encodePayload({ room: this.#feedRoom, head }));
	}

	/** What a tab joining an open room gets first: the list as this socket knows it now. */
	#synthesizedList(): RoomEvents<unknown>['session:list'] {
		const sessions = [...this.#sessions.values()];
		return this.#window ? { sessions, window: this.#window } : { sessions };
	}

	/** Window presence: keeps the counts and the window a later tab starts from (its pages are its own). */
	#windowUpdate(change: PresenceUpdate<unknown>): void {
		if (!this.#window) return;
		this.#window = { ...this.#window, users: change.users, sessions: change.sessions };
		applyWindowChange(this.#sessions, change);
	}

	#onWarning(warning: TransportWarning): void {
		// Only a send that raced a drop reaches the worker's queue (tabs queue their own while not
		// connected); which tab sent it is unknown, so every tab hears it.
		for (const member of this.#members) member.post({ type: 'warning', join: member.join, warning });
	}

	#postEvent(member: RoomMember, name: string, payload: EncodedPayload): void {
		member.post({ type: 'event', join: member.join, name, payload });
	}
}
