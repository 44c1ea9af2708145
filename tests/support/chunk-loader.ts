/**
 * A lazy chunk's loader taken over for the tests of a file: each test starts with the chunk not
 * loaded; `mode` says whether a load works (`real`) or fails as a browser without network does
 * (`offline`), a load waits for `gate` while one is set, and `asked` lists the loads started.
 */
import { afterEach, beforeEach } from 'bun:test';
import type { LazyChunk } from '../../calls/lazy-chunk.js';

export interface ChunkControl {
	asked: string[];
	mode: 'real' | 'offline';
	gate: PromiseWithResolvers<void> | undefined;
}

export function controlChunk<T>(chunk: LazyChunk<T>): ChunkControl {
	const source = chunk.source;
	const realLoad = source.load;
	const control: ChunkControl = { asked: [], mode: 'real', gate: undefined };
	beforeEach(() => {
		chunk.forget();
		control.asked = [];
		control.mode = 'real';
		control.gate = undefined;
		source.load = async () => {
			control.asked.push(control.mode);
			await control.gate?.promise;
			if (control.mode === 'offline') throw new TypeError('Failed to fetch dynamically imported module');
			return realLoad();
		};
	});
	afterEach(() => {
		source.load = realLoad;
		control.gate?.resolve();
	});
	return control;
}

/** Each of `chunks` starts each test of the describe not loaded, and arrives `ms` after it is asked for (as over a network). */
export function arrivingLate(ms: number, ...chunks: Array<LazyChunk<unknown>>): void {
	const loads = chunks.map((chunk) => chunk.source.load);
	beforeEach(() =>
		chunks.forEach((chunk, i) => {
			chunk.forget();
			chunk.source.load = () => new Promise((resolve) => setTimeout(resolve, ms)).then(loads[i]);
		}),
	);
	afterEach(() => chunks.forEach((chunk, i) => (chunk.source.load = loads[i]!)));
}
