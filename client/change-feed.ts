/**
 * `ChangeFeed`: turns the room's numbered entity changes into an exactly-once, in-order stream for a
 * `DatabaseClient`, across disconnects. It remembers the last change it applied; the next socket asks
 * the room for everything after it (`?since=`), and the room replays exactly that before any live
 * change. Duplicates (a change seen live and again in a replay) are dropped by sequence number.
 *
 * Only a feed that is *followed* asks for anything: until `follow()` (the app called
 * `databaseHooks()`) or `startAt()` (it gave `connect` a `since`), `since` is `null`, the socket
 * carries no `?since=`, and the room sends no catch-up and no `entity:synced` (live changes still
 * arrive, as they do to every socket).
 *
 * Following may start while a socket that asked for nothing is open. The feed then continues from
 * the last change that socket delivered, if any; if none came yet it cannot name where it stands,
 * so it waits for the first change to name it (every change after the follow arrives live in the
 * meantime). Should the socket drop before that, what was missed cannot be named either: the next
 * `entity:synced` is turned into `entity:resync`, and the app refetches.
 */
import type { EntityEvent } from '../rpc/types.js';

/** A change as `DatabaseClient` consumes it (the upstream `DatabaseEntityChange`). */
export interface DatabaseEntityChange {
	type: 'create' | 'update' | 'delete';
	entity_type: string;
	id: string | number;
	/** Full entity data for create and update; absent for delete. */
	data?: Record<string, unknown>;
	/** The server's sparse search-index projection; insert this, not `data`, into a local index. */
	sparse?: Record<string, unknown>;
}

/** How a live channel plugs into `DatabaseClient` (its `hooks` option). */
export interface DatabaseClientHooks {
	/** Called by `DatabaseClient` after each local write. */
	onEntityChange?: (change: DatabaseEntityChange) => void;
	/** Subscribes to changes made elsewhere; returns the unsubscribe function. */
	onSubscribe?: (callback: (change: DatabaseEntityChange) => void) => (() => void) | void;
	/** True while changes are guaranteed to be arriving (connected and caught up). */
	isLive?: () => boolean;
}

/** What `ws.databaseHooks()` returns: the whole contract, with an unsubscribe function always given back. */
export interface DatabaseHooks extends Required<DatabaseClientHooks> {
	onSubscribe(callback: (change: DatabaseEntityChange) => void): () => void;
}

const TYPES = { 'entity:created': 'create', 'entity:updated': 'update', 'entity:deleted': 'delete' } as const;

export class ChangeFeed {
	#room: string | undefined;
	#following = false;
	/**
	 * The last change delivered, or -1 when unknown. While not following it is kept only for the
	 * current socket (a socket that asked for no catch-up breaks the chain at every reconnect).
	 */
	#position = -1;
	#caughtUp = false;
	/** Followed on an open socket before any change named the position: the first change will. */
	#unnamed = false;
	/** Dropped while unnamed: the next `entity:synced` cannot vouch for the gap, so it is a resync. */
	#owed = false;
	/** Whether the socket (or join) asked for last, by {@link ask}, carries a `since`. */
	#asked = false;
	#subscribers = new Set<(change: DatabaseEntityChange) => void>();
	#resyncSubscribers = new Set<() => void>();

	/**
	 * The `since` to send with the next connection: the position (-1: from the head the socket
	 * finds), or `null` while not following, when the socket asks for no catch-up.
	 */
	get since(): number | null {
		return this.#following ? this.#position : null;
	}

	/** {@link since} for a socket (or a join) being opened now; remembers whether it asks for a catch-up. */
	ask(): number | null {
		this.#asked = this.#following;
		return this.since;
	}

	/** The last change delivered (-1: unknown). */
	get position(): number {
		return this.#position;
	}

	/** Caught up with the room on the current connection. */
	get caughtUp(): boolean {
		return this.#caughtUp;
	}

	/** The next `entity:synced` will be delivered as `entity:resync` (see the class comment). */
	get owed(): boolean {
		return this.#owed;
	}

	/** A new room: forget the old one's position (its sequence numbers mean nothing here). */
	reset(room: string): void {
		this.#room = room;
		this.#position = -1;
		this.#caughtUp = false;
		this.#unnamed = false;
		this.#owed = false;
	}

	/**
	 * Starts following (idempotent). `connected`: a socket is open now and sends every change from
	 * here on; without a catch-up of its own, its last delivered change is where the feed starts.
	 * Returns whether this call started it.
	 */
	follow(connected: boolean): boolean {
		if (this.#following) return false;
		this.#following = true;
		if (connected && !this.#caughtUp) {
			if (this.#position >= 0) this.#caughtUp = true;
			else this.#unnamed = true;
		}
		return true;
	}

	/**
	 * The app's copy is known to include every change up to `position` (a head the room reported
	 * before the data was read): the next socket asks for everything after it. Starts following.
	 */
	startAt(position: number): void {
		if (!Number.isSafeInteger(position) || position < 0) throw new RangeError(`since must be a change number (>= 0), got ${position}`);
		this.#following = true;
		this.#position = position;
		this.#caughtUp = false;
		this.#unnamed = false;
		this.#owed = false;
	}

	/**
	 * The socket joined the room. One asked for before the feed followed sends no catch-up: the feed
	 * goes on as when following on an open socket (see {@link follow}).
	 */
	joined(): void {
		if (this.#following && !this.#asked && !this.#caughtUp && this.#position < 0) this.#unnamed = true;
	}

	/** The socket is gone: until the next replay, changes may be missing. */
	disconnected(): void {
		this.#caughtUp = false;
		if (this.#unnamed) {
			this.#unnamed = false;
			this.#owed = true;
		}
		if (!this.#following) this.#position = -1;
	}

	/**
	 * Feeds one event from the room. Returns the name to deliver it under (`entity:synced` becomes
	 * `entity:resync` when the feed owes one), or `null` for an entity change that must not reach the
	 * app (a duplicate, or one from a room this feed no longer follows).
	 */
	receive(name: string, data: unknown): string | null {
		if (!name.startsWith('entity:')) return name;
		const event = data as EntityEvent & { head: number };
		if (this.#room !== undefined && event.room !== this.#room) return null;
		if (name === 'entity:synced' && !this.#owed) {
			this.#position = Math.max(this.#position, event.head);
			this.#caughtUp = true;
			this.#unnamed = false;
			return name;
		}
		if (name === 'entity:synced' || name === 'entity:resync') {
			// An owed `entity:synced` too: what was missed while unnamed cannot be replayed.
			this.#position = event.head;
			this.#caughtUp = true;
			this.#unnamed = false;
			this.#owed = false;
			for (const notify of this.#resyncSubscribers) notify();
			return 'entity:resync';
		}
		const type = TYPES[name as keyof typeof TYPES];
		if (!type || event.seq <= this.#position) return null;
		this.#position = event.seq;
		if (this.#unnamed) {
			// The first change since following on an open socket: everything after it arrives too.
			this.#unnamed = false;
			this.#caughtUp = true;
		}
		const change: DatabaseEntityChange = { type, entity_type: event.entity_type, id: event.id };
		if (event.data !== undefined) change.data = event.data as Record<string, unknown>;
		if (event.sparse !== undefined) change.sparse = event.sparse as Record<string, unknown>;
		for (const notify of this.#subscribers) notify(change);
		return name;
	}

	subscribe(callback: (change: DatabaseEntityChange) => void): () => void {
		this.#subscribers.add(callback);
		return () => void this.#subscribers.delete(callback);
	}

	/** Called when what was missed is older than the room's log (or cannot be named): the app must refetch. */
	onResync(callback: () => void): () => void {
		this.#resyncSubscribers.add(callback);
		return () => void this.#resyncSubscribers.delete(callback);
	}
}
