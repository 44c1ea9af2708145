/**
 * `ChangeFeed`: turns the room's numbered entity changes into an exactly-once, in-order stream for a
 * `DatabaseClient`, across disconnects. It remembers the last change it applied; the next socket asks
 * the room for everything after it (`?since=`), and the room replays exactly that before any live
 * change. Duplicates (a change seen live and again in a replay) are dropped by sequence number.
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
	/** The last change applied, or -1 before the room told us where it stands. */
	#position = -1;
	#caughtUp = false;
	#subscribers = new Set<(change: DatabaseEntityChange) => void>();
	#resyncSubscribers = new Set<() => void>();

	/** The `since` to send with the next connection. */
	get since(): number {
		return this.#position;
	}

	/** Caught up with the room on the current connection. */
	get caughtUp(): boolean {
		return this.#caughtUp;
	}

	/** A new room: forget the old one's position (its sequence numbers mean nothing here). */
	reset(room: string): void {
		this.#room = room;
		this.#position = -1;
		this.#caughtUp = false;
	}

	/**
	 * The app's copy is known to include every change up to `position` (a head the room reported
	 * before the data was read): the next socket asks for everything after it.
	 */
	startAt(position: number): void {
		if (!Number.isSafeInteger(position) || position < 0) throw new RangeError(`since must be a change number (>= 0), got ${position}`);
		this.#position = position;
		this.#caughtUp = false;
	}

	/** The socket is gone: until the next replay, changes may be missing. */
	disconnected(): void {
		this.#caughtUp = false;
	}

	/**
	 * Feeds one event from the room. Returns `false` for an entity change that must not reach the
	 * app (a duplicate, or one from a room this feed no longer follows); `true` otherwise.
	 */
	receive(name: string, data: unknown): boolean {
		if (!name.startsWith('entity:')) return true;
		const event = data as EntityEvent & { head: number };
		if (this.#room !== undefined && event.room !== this.#room) return false;
		switch (name) {
			case 'entity:synced':
				this.#position = Math.max(this.#position, event.head);
				this.#caughtUp = true;
				return true;
			case 'entity:resync':
				this.#position = event.head;
				this.#caughtUp = true;
				for (const notify of this.#resyncSubscribers) notify();
				return true;
		}
		const type = TYPES[name as keyof typeof TYPES];
		if (!type || event.seq <= this.#position) return false;
		this.#position = event.seq;
		const change: DatabaseEntityChange = { type, entity_type: event.entity_type, id: event.id };
		if (event.data !== undefined) change.data = event.data as Record<string, unknown>;
		if (event.sparse !== undefined) change.sparse = event.sparse as Record<string, unknown>;
		for (const notify of this.#subscribers) notify(change);
		return true;
	}

	subscribe(callback: (change: DatabaseEntityChange) => void): () => void {
		this.#subscribers.add(callback);
		return () => void this.#subscribers.delete(callback);
	}

	/** Called when what was missed is older than the room's log: the app must refetch. */
	onResync(callback: () => void): () => void {
		this.#resyncSubscribers.add(callback);
		return () => void this.#resyncSubscribers.delete(callback);
	}
}
