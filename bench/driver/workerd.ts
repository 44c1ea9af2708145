/**
 * Runs a Worker in ONE workerd process through Miniflare, on 127.0.0.1 only: the bench's Worker
 * (`bench/worker/index.ts`: every room side by side), or a profiling tool's. Returns the workerd pid
 * too: server CPU is read from that process, not from Miniflare's.
 */
import { Miniflare } from 'miniflare';
import { buildWorker } from './build.js';
import { findWorkerd } from './proc.js';

export interface BenchServer {
	/** `ws://127.0.0.1:<port>` */
	wsOrigin: string;
	/** `http://127.0.0.1:<port>`: the same Worker, for plain requests (the counted rooms' counts, the profiler's ops). */
	httpOrigin: string;
	/** The workerd process that runs all the rooms. */
	pid: number;
	/** The V8 inspector of workerd (`ws://127.0.0.1:<port>`), when started with `inspector: true`. */
	inspectorUrl?: string;
	dispose(): Promise<void>;
}

/** A Worker to run: its entry under bench/, its bundle's name in bench/.build/, its Durable Objects (binding → class). */
export interface WorkerScript {
	entry: string;
	name: string;
	durableObjects: Record<string, string>;
}

/** The bench's Worker: every room the scenarios compare (see bench/worker/index.ts for the routes). */
export const BENCH_WORKER: WorkerScript = {
	entry: 'worker/index.ts',
	name: 'bench-worker',
	durableObjects: {
		OURS: 'BenchRoom',
		OURS_DEFLATE: 'DeflateBenchRoom',
		OURS_UNBATCHED: 'UnbatchedBenchRoom',
		OURS_WINDOW: 'WindowBenchRoom',
		OURS_SHARDED: 'ShardedBenchRoom',
		BARE: 'BareRoom',
		PARTY: 'PartyRoom',
		BARE_ASYNC: 'BareAsyncRoom',
		PRIMER: 'PrimerRoom',
		OURS_COUNTED: 'CountedBenchRoom',
		OURS_DEFLATE_COUNTED: 'CountedDeflateBenchRoom',
		BARE_COUNTED: 'CountedBareRoom',
		PARTY_COUNTED: 'CountedPartyRoom',
	},
};

// One bundle per Worker and process: the memory scenario starts a fresh workerd for every measurement.
const bundles = new Map<string, Promise<string>>();
function bundle(script: WorkerScript): Promise<string> {
	let built = bundles.get(script.name);
	if (!built) {
		built = buildWorker(script.entry, script.name).catch((error) => {
			bundles.delete(script.name);
			throw error;
		});
		bundles.set(script.name, built);
	}
	return built;
}

/** workerd pids of the bench servers this process runs now. */
const running = new Set<number>();

export async function startBenchServer({ inspector = false, script = BENCH_WORKER } = {}): Promise<BenchServer> {
	const scriptPath = await bundle(script);
	const mf = new Miniflare({
		modules: true,
		scriptPath,
		compatibilityDate: '2026-04-20',
		durableObjects: Object.fromEntries(Object.entries(script.durableObjects).map(([binding, className]) => [binding, { className, useSQLite: true }])),
		host: '127.0.0.1',
		port: 0,
		// Only for `bench/profile/workerd.ts` and the memory scenario (to force a full GC): the
		// inspector slows the isolate down.
		...(inspector ? { inspectorPort: 0 } : {}),
	});
	try {
		const url = await mf.ready;
		// Another bench server may be running in this process (the memory scenario starts its own).
		const pid = findWorkerd(process.pid, running);
		if (pid === undefined) throw new Error('Miniflare is up but no workerd process descends from this one');
		const inspectorUrl = inspector ? (await mf.getInspectorURL()).href.replace(/\/$/, '') : undefined;
		running.add(pid);
		const dispose = () => mf.dispose().finally(() => running.delete(pid));
		return { wsOrigin: url.origin.replace(/^http/, 'ws'), httpOrigin: url.origin, pid, inspectorUrl, dispose };
	} catch (error) {
		await mf.dispose();
		throw error;
	}
}
