/// <reference types="svelte" />
/**
 * The client's state as Svelte 5 runes: what makes `WebsocketClient`'s `status`, `sessions` and
 * friends reactive. See reactivity.ts.
 */
import { untrack } from 'svelte';
import type { Cell, Reactivity } from './reactivity.js';

/**
 * A value Svelte tracks only once something reactive has read it. Every write to rune state starts
 * a Svelte batch, flushed in a microtask: in a page that shows only `status`, the client's other
 * state (presence counts, `nextRetry`, `isLive`…) would pay that on every change for no one. So the
 * value is a plain field, and the rune is a version that a read inside an effect, a template or a
 * `$derived` subscribes to; from then on each change bumps it. A read outside any of those needs no
 * subscription: it gets the field, which is always current.
 */
class StateCell<T> implements Cell<T> {
	#value: T;
	#version = $state.raw(0);
	/**
	 * 0 until something reactive first reads the cell; from then on, bumped by each write and
	 * assigned to `#version`, never read from it (a read inside an effect that writes would subscribe
	 * it to itself).
	 */
	#writes = 0;
	constructor(value: T) {
		this.#value = value;
	}
	get(): T {
		if ($effect.tracking()) {
			this.#writes ||= 1;
			void this.#version;
		}
		return this.#value;
	}
	set(value: T): void {
		if (Object.is(value, this.#value)) return;
		this.#value = value;
		if (this.#writes) this.#version = ++this.#writes;
	}
}

export const svelteReactivity: Reactivity = {
	cell: (initial) => new StateCell(initial),
	untrack,
};
