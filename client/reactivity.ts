/**
 * Where a client keeps its state. The client's logic (client/room-client.ts) is written once against
 * this interface: `WebsocketClient` passes Svelte runes (reactivity.svelte.ts), so components update
 * by themselves; the headless `RoomClient` passes plain fields, so Node and Bun can run it without
 * compiling anything.
 */

/** One value that can be read and replaced. */
export interface Cell<T> {
	get(): T;
	set(value: T): void;
}

export interface Reactivity {
	/** A value; with runes, reading it subscribes the reader's effect. Replaced, never mutated. */
	cell<T>(initial: T): Cell<T>;
	/** Runs `run` without subscribing the caller's effect to what it reads. */
	untrack<T>(run: () => T): T;
}

class PlainCell<T> implements Cell<T> {
	#value: T;
	constructor(value: T) {
		this.#value = value;
	}
	get(): T {
		return this.#value;
	}
	set(value: T): void {
		this.#value = value;
	}
}

/** Plain fields: no subscriptions, nothing to untrack. */
export const plainReactivity: Reactivity = {
	cell: (initial) => new PlainCell(initial),
	untrack: (run) => run(),
};
