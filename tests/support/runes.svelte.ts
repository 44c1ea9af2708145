/**
 * Observing rune state from a test, the way a component would: through `$effect` inside an
 * `$effect.root`. Compiled by the svelte preload with the client runtime.
 */
import { flushSync } from 'svelte';

export interface Observation<T> {
	/** Every value `read` produced: once at start, then once per change the effect saw. */
	readonly values: T[];
	stop(): void;
}

/** Records `read()` now and each time the state it reads changes. */
export function observe<T>(read: () => T): Observation<T> {
	const values: T[] = [];
	const stop = $effect.root(() => {
		$effect(() => {
			values.push(read());
		});
	});
	flushSync();
	return { values, stop };
}

/**
 * Resolves as soon as `predicate()` is true, re-checking whenever the state it reads changes
 * (no polling). Rejects after `timeoutMs` of real time, naming `what`.
 */
export function until(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
	return new Promise<void>((resolve, reject) => {
		let done = false;
		let stop = () => {};
		const timer = setTimeout(() => {
			if (done) return;
			done = true;
			stop();
			reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
		}, timeoutMs);
		stop = $effect.root(() => {
			$effect(() => {
				if (done || !predicate()) return;
				done = true;
				clearTimeout(timer);
				queueMicrotask(() => stop());
				resolve();
			});
		});
		flushSync();
	});
}

/** Svelte's browser `flushSync`: runs pending effects now. */
export { flushSync };

/** `$derived.by(compute)`, as an app declares one in a component or a class. */
export function derive<T>(compute: () => T): { readonly value: T } {
	return new Derived(compute);
}

class Derived<T> {
	readonly #compute: () => T;
	readonly #value = $derived.by(() => this.#compute());
	constructor(compute: () => T) {
		this.#compute = compute;
	}
	get value(): T {
		return this.#value;
	}
}
