/**
 * Bundles `bench/worker.ts` and runs it in ONE workerd process through Miniflare, on 127.0.0.1
 * only. Returns the workerd pid too: server CPU is read from that process, not from Miniflare's.
 */
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { findWorkerd } from './proc.js';

const root = join(import.meta.dir, '..');
const outdir = join(root, 'bench', '.build');

export interface BenchServer {
	/** `ws://127.0.0.1:<port>` */
	wsOrigin: string;
	/** The workerd process that runs all three rooms. */
	pid: number;
	/** The V8 inspector of workerd (`ws://127.0.0.1:<port>`), when started with `inspector: true`. */
	inspectorUrl?: string;
	dispose(): Promise<void>;
}

// One bundle per process: the memory scenario starts a fresh workerd for every measurement.
let bundled: Promise<string> | undefined;
function bundle(): Promise<string> {
	return (bundled ??= buildWorker().catch((error) => {
		bundled = undefined;
		throw error;
	}));
}

async function buildWorker(): Promise<string> {
	mkdirSync(outdir, { recursive: true });
	const outfile = join(outdir, 'bench-worker.js');
	await build({
		entryPoints: [join(root, 'bench', 'worker.ts')],
		outfile,
		bundle: true,
		format: 'esm',
		platform: 'neutral',
		target: 'es2022',
		// As wrangler resolves: capnweb's workerd build, nanoid's (partyserver's) browser build.
		// `cloudflare:*` is provided by the runtime.
		conditions: ['workerd', 'worker', 'browser', 'import'],
		mainFields: ['module', 'main'],
		external: ['cloudflare:*', 'node:*'],
		logLevel: 'error',
	});
	return outfile;
}

/** workerd pids of the bench servers this process runs now. */
const running = new Set<number>();

export async function startBenchServer({ inspector = false } = {}): Promise<BenchServer> {
	const scriptPath = await bundle();
	const mf = new Miniflare({
		modules: true,
		scriptPath,
		compatibilityDate: '2026-04-20',
		durableObjects: {
			OURS: { className: 'BenchRoom', useSQLite: true },
			BARE: { className: 'BareRoom', useSQLite: true },
			PARTY: { className: 'PartyRoom', useSQLite: true },
			BARE_ASYNC: { className: 'BareAsyncRoom', useSQLite: true },
			CAPNWEB: { className: 'CapnwebRoom', useSQLite: true },
			OURS_UNBATCHED: { className: 'UnbatchedBenchRoom', useSQLite: true },
			OURS_DEFLATE: { className: 'DeflateBenchRoom', useSQLite: true },
			OURS_COUNTED: { className: 'CountedBenchRoom', useSQLite: true },
			BARE_COUNTED: { className: 'CountedBareRoom', useSQLite: true },
			PARTY_COUNTED: { className: 'CountedPartyRoom', useSQLite: true },
		},
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
		return { wsOrigin: url.origin.replace(/^http/, 'ws'), pid, inspectorUrl, dispose };
	} catch (error) {
		await mf.dispose();
		throw error;
	}
}
