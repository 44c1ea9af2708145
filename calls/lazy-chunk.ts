/**
 * A module the browser loads on demand (a dynamic `import()`, which app bundlers make a chunk of
 * its own): loaded once, shared by everyone who asks meanwhile, and asked for again after a failed
 * load (a browser may answer that from its module map: Chromium keeps a failed module fetch for the
 * page's life). capnweb's sessions (`sessions.ts`) and the payload decoder (`client/payload-codec.ts`) come
 * this way.
 */
import { RoomError, type RoomErrorCode } from '../rpc/errors.js';

/** Where a chunk comes from. Tests replace `load` to count loads or make one fail; `imports` counts the loads started. */
export interface ChunkSource<T> {
	load: () => Promise<T>;
	imports: number;
}

export interface LazyChunk<T> {
	/** The module if loaded already. */
	now(): T | undefined;
	/** Why the last load failed, while none has succeeded since. */
	failure(): Error | undefined;
	/** The module, loading it if needed; rejects with what `refuse` made of the failure (the next call tries again). */
	load(): Promise<T>;
	/** Starts loading it in the background. */
	prefetch(): void;
	/** Forgets it (tests: the next `load` goes through `source.load` again). */
	forget(): void;
	/** Where it comes from. Tests replace `source.load` to count loads, delay or fail one. */
	source: ChunkSource<T>;
}

/**
 * A chunk `load` brings. A failed load rejects with a `RoomError` of `code` (status 0: nothing
 * reached the room), its message `what` followed by why; the next call tries again.
 */
export function lazyChunk<T>(load: () => Promise<T>, code: RoomErrorCode, what: string): LazyChunk<T> {
	const source: ChunkSource<T> = { load, imports: 0 };
	let loaded: T | undefined;
	let loading: Promise<T> | undefined;
	let failed: Error | undefined;
	const chunk: LazyChunk<T> = {
		now: () => loaded,
		failure: () => failed,
		load() {
			if (loaded) return Promise.resolve(loaded);
			if (!loading) {
				source.imports++;
				const attempt: Promise<T> = Promise.resolve()
					.then(() => source.load())
					.then(
						(module) => {
							if (loading === attempt) [loaded, failed] = [module, undefined];
							return module;
						},
						(cause: unknown) => {
							const why = cause instanceof Error ? cause.message : String(cause);
							const error = Object.assign(new RoomError(code, `${what}: ${why}`, 0), { cause });
							if (loading === attempt) [loading, failed] = [undefined, error];
							throw error;
						},
					);
				loading = attempt;
			}
			return loading;
		},
		prefetch() {
			if (!loaded) chunk.load().catch(() => {});
		},
		forget() {
			loaded = loading = failed = undefined;
		},
		source,
	};
	return chunk;
}
