/**
 * The rune state behind `WebsocketClient` (client/reactivity.svelte.ts): a cell is a plain value
 * until something reactive reads it, so writes nobody watches start no Svelte batch; whatever reads
 * it in an effect, a template or a `$derived`, whenever that starts, sees every change from then on.
 */
import { describe, expect, test } from 'bun:test';
import { svelteReactivity } from '../../client/reactivity.svelte.js';
import { derive, flushSync, observe } from '../support/runes.svelte.js';

const { cell, untrack } = svelteReactivity;

describe('rune cells', () => {
	test('written before anything watched it: the first effect reads the latest value, then every change', () => {
		const status = cell('disconnected');
		status.set('connecting');
		status.set('connected');
		expect(status.get()).toBe('connected');
		const seen = observe(() => status.get());
		status.set('reconnecting');
		flushSync();
		status.set('reconnecting');
		status.set('connected');
		flushSync();
		expect(seen.values).toEqual(['connected', 'reconnecting', 'connected']);
		seen.stop();
	});

	test('a $derived reading a cell recomputes on its changes, whether read in an effect or not', () => {
		const count = cell(1);
		const doubled = derive(() => count.get() * 2);
		expect(doubled.value).toBe(2);
		count.set(2);
		expect(doubled.value).toBe(4);
		const seen = observe(() => doubled.value);
		count.set(5);
		flushSync();
		expect(seen.values).toEqual([4, 10]);
		seen.stop();
	});

	test('an untracked read does not subscribe; each effect sees only the cells it read', () => {
		const a = cell('a0');
		const b = cell('b0');
		const seen = observe(() => `${a.get()} ${untrack(() => b.get())}`);
		b.set('b1');
		flushSync();
		a.set('a1');
		flushSync();
		expect(seen.values).toEqual(['a0 b0', 'a1 b1']);
		seen.stop();
	});

	test('the same value again is no change', () => {
		const list = cell<readonly string[]>([]);
		const seen = observe(() => list.get());
		const same = list.get();
		list.set(same);
		flushSync();
		list.set(['x']);
		flushSync();
		expect(seen.values).toEqual([[], ['x']]);
		seen.stop();
	});
});
