/**
 * The events a `WebsocketClient` emits, and the listener registry behind `on` / `once` / `off`.
 */
import type { RoomErrorData } from '../rpc/errors.js';
import type { AuthSessionMeta, EntityEvent, RoomEvents } from '../rpc/types.js';
import type { TransportWarning } from './transport.js';

/** The payload of `entity:created | entity:updated | entity:deleted`. */
export type EntityChange = EntityEvent;

/** `ws:connected`: the socket is open and the room's session list has arrived. */
export interface WsConnected {
	room: string;
	/** `false` for the first connection after `connect()`, `true` after a drop. */
	reconnected: boolean;
}

/** `ws:disconnected`: a connection that was up has ended. */
export interface WsDisconnected {
	room: string;
	/** The socket's close code: 1006 for a dropped connection, 4000 for a keep-alive timeout, 4001 for a kick… */
	code: number;
	reason: string;
	/** Whether the client is going to retry by itself. */
	reconnecting: boolean;
}

/** Events the client itself emits. */
export interface LocalEvents {
	/**
	 * Something went wrong that the app may want to show: a refused call or event from the room,
	 * or the client stopping for good (kicked, unauthorized, retries exhausted; see `client.error`).
	 */
	error: RoomErrorData;
	'ws:connected': WsConnected;
	'ws:disconnected': WsDisconnected;
	/** Not an error, but worth knowing: e.g. a queued `send()` dropped because the queue was full. */
	'ws:warning': TransportWarning;
}

/** Events every client emits, whatever the room: the room's built-in ones and the client's own. */
export type ClientEvents<Meta = AuthSessionMeta> = RoomEvents<Meta> & LocalEvents;

/** Every event a client with room events `Events` can emit, by name. */
export type WebsocketEvents<Meta, Events extends object> = ClientEvents<Meta> & Events;

/** What a `'*'` listener receives: any event, with its name. */
export type AnyEvent<Events> = {
	[K in keyof Events & string]: { event: K; data: Events[K] };
}[keyof Events & string];

interface Entry {
	callback: (data: never) => void;
	once: boolean;
	/** Set once it is off: an emit under way skips it. */
	off?: true;
}

/**
 * Listeners by event name. `'*'` listeners see every event after the named ones. A listener that
 * throws is reported and does not keep the others from running.
 */
export class Listeners {
	// A name's array is replaced, never changed: an emit walks the one it started with, so a listener
	// added meanwhile runs from the next emit, with no copy and no iterator per event (an event's
	// delivery is a few steps, run mostly before the JIT optimizes them: each one shows).
	#byName = new Map<string, Entry[]>();

	on(name: string, callback: (data: never) => void, once = false): () => void {
		const entry: Entry = { callback, once };
		this.#byName.set(name, [...(this.#byName.get(name) ?? []), entry]);
		return () => this.#remove(name, entry);
	}

	/** Removes `callback` from `name` (however it was added); without a callback, all of `name`. */
	off(name: string, callback?: (data: never) => void): void {
		for (const entry of this.#byName.get(name) ?? []) if (!callback || entry.callback === callback) this.#remove(name, entry);
	}

	/** Runs `name`'s listeners, then the `'*'` ones with `{ event, data }` (one function: a call less per event). */
	emit(name: string, data: unknown): void {
		const entries = this.#byName.get(name);
		if (entries)
			for (let i = 0; i < entries.length; i++) {
				const entry = entries[i]!;
				if (entry.off) continue; // removed by a listener that ran before it
				if (entry.once) this.#remove(name, entry);
				try {
					(entry.callback as (data: unknown) => void)(data);
				} catch (error) {
					console.error(`@delightstack/websocket: a "${name}" listener threw`, error);
				}
			}
		if (name !== '*' && this.#byName.has('*')) this.emit('*', { event: name, data });
	}

	clear(): void {
		this.#byName.clear();
	}

	/** Number of listeners for `name`, or for all names. */
	count(name?: string): number {
		if (name !== undefined) return this.#byName.get(name)?.length ?? 0;
		let n = 0;
		for (const entries of this.#byName.values()) n += entries.length;
		return n;
	}

	#remove(name: string, entry: Entry): void {
		const entries = this.#byName.get(name);
		if (entry.off || !entries) return;
		entry.off = true;
		const rest = entries.filter((e) => e !== entry);
		if (rest.length) this.#byName.set(name, rest);
		else this.#byName.delete(name);
	}
}
