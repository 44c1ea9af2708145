/// <reference types="svelte" />
/**
 * The client's state as Svelte 5 runes: what makes `WebsocketClient`'s `status`, `sessions` and
 * friends reactive. See reactivity.ts.
 */
import { untrack } from 'svelte';
import type { Cell, Reactivity } from './reactivity.js';

class StateCell<T> implements Cell<T> {
	#value: T;
	constructor(value: T) {
		this.#value = $state.raw(value);
	}
	get(): T {
		return this.#value;
	}
	set(value: T): void {
		this.#value = value;
	}
}

class DerivedCell<T> {
	readonly #compute: () => T;
	readonly #value = $derived.by(() => this.#compute());
	constructor(compute: () => T) {
		this.#compute = compute;
	}
	get(): T {
		return this.#value;
	}
}

export const svelteReactivity: Reactivity = {
	cell: (initial) => new StateCell(initial),
	derived: (compute) => new DerivedCell(compute),
	untrack,
};
