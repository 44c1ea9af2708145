/**
 * Runs the test Worker in workerd through Miniflare: the real Workers runtime, real Durable Objects
 * with SQLite storage, real hibernatable WebSockets, listening on 127.0.0.1 only.
 */
import { afterAll, beforeAll } from 'bun:test';
import { build } from 'esbuild';
import { FOR_WORKERD } from '../../vite/workerd-bundle.js';
import { Miniflare, type WorkerOptions } from 'miniflare';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dir, '..', '..');
const outdir = join(root, 'tests', '.build');

/** Bundles a Worker entry for workerd (capnweb's `workerd` build, `cloudflare:*` left to the runtime). */
export async function bundleWorker(entry: string, outfile: string): Promise<string> {
	mkdirSync(outdir, { recursive: true });
	const path = join(outdir, outfile);
	await build({
		entryPoints: [join(root, entry)],
		outfile: path,
		// As the package's Vite plugin bundles rooms for workerd (and as wrangler does).
		...FOR_WORKERD,
		conditions: [...FOR_WORKERD.conditions],
		mainFields: [...FOR_WORKERD.mainFields],
		external: [...FOR_WORKERD.external],
		logLevel: 'error',
		// The run without the shortcut (see calls/shortcut/switch.ts) reaches into the Worker too.
		banner: process.env.NO_SHORTCUT === '1' ? { js: 'globalThis.__delightstackNoShortcut = true;' } : undefined,
	});
	return path;
}

export interface RoomWorker {
	mf: Miniflare;
	/** `http://127.0.0.1:<port>` */
	origin: string;
	/** ws:// URL that joins `room` with the given meta (the test stands in for the handle). */
	connectUrl(room: string, meta: object): string;
	/** Calls a public method of the room's Durable Object through Workers RPC. */
	rpc<T = unknown>(room: string, method: string, ...args: unknown[]): Promise<T>;
	dispose(): Promise<void>;
}

/** More for the Worker than `startWorkerd` gives it, e.g. bindings of its own, or a reader of its logs. */
export type ExtraWorkerOptions = Partial<Pick<WorkerOptions, 'serviceBindings' | 'bindings' | 'durableObjects'>> & {
	handleRuntimeStdio?: (stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) => void;
};

/** Bundles `entry` and serves it from workerd on 127.0.0.1, with `TestRoom` bound as `ROOM` (and `extra`). */
export async function startWorkerd(
	entry: string,
	outfile: string,
	extra: ExtraWorkerOptions = {},
): Promise<{ mf: Miniflare; origin: string; wsOrigin: string }> {
	const scriptPath = await bundleWorker(entry, outfile);
	const mf = new Miniflare({
		...extra,
		modules: true,
		scriptPath,
		compatibilityDate: '2026-04-20',
		durableObjects: { ROOM: { className: 'TestRoom', useSQLite: true }, ...extra.durableObjects },
		host: '127.0.0.1',
		port: 0,
	});
	const { origin } = await mf.ready;
	return { mf, origin, wsOrigin: origin.replace(/^http/, 'ws') };
}

/**
 * The test room (tests/worker) in workerd, or another Worker that routes `/connect/<room>` and
 * `/rpc/<room>` to it, as `entry`.
 */
export async function startRoomWorker(extra: ExtraWorkerOptions = {}, entry = 'tests/worker/index.ts', outfile = 'test-worker.js'): Promise<RoomWorker> {
	// The test Worker's stricter and looser rooms (see tests/worker/index.ts), by room name prefix.
	const durableObjects =
		entry === 'tests/worker/index.ts'
			? { STRICT: { className: 'StrictRoom', useSQLite: true }, OPEN: { className: 'OpenRoom', useSQLite: true }, ...extra.durableObjects }
			: extra.durableObjects;
	const { mf, origin, wsOrigin } = await startWorkerd(entry, outfile, { ...extra, durableObjects });
	return {
		mf,
		origin,
		connectUrl: (room, meta) => `${wsOrigin}/connect/${encodeURIComponent(room)}?meta=${encodeURIComponent(JSON.stringify(meta))}`,
		async rpc<T>(room: string, method: string, ...args: unknown[]) {
			const res = await fetch(`${origin}/rpc/${encodeURIComponent(room)}`, {
				method: 'POST',
				body: JSON.stringify({ method, args }),
			});
			if (!res.ok) throw new Error(`rpc ${method} failed: ${res.status} ${await res.text()}`);
			return ((await res.json()) as { result: T }).result;
		},
		dispose: () => mf.dispose(),
	};
}

/**
 * A test file's room worker (`startRoomWorker(...start)`): started before its first test, disposed
 * after its last. `worker` is it (once started); `freshRoom()` names a room no earlier test of the file used.
 */
export function roomWorkerPerFile(prefix: string, ...start: Parameters<typeof startRoomWorker>): { readonly worker: RoomWorker; freshRoom(): string } {
	let started: RoomWorker | undefined;
	let rooms = 0;
	beforeAll(async () => (started = await startRoomWorker(...start)));
	afterAll(() => started?.dispose());
	return {
		get worker() {
			if (!started) throw new Error('The room worker starts in beforeAll: use it inside a test.');
			return started;
		},
		freshRoom: () => `${prefix}-${++rooms}-${Date.now()}`,
	};
}
