/**
 * PROFILING TOOL, outside the comparison (it measures the library's internals, `ops.ts`).
 *
 * What each piece of our per-frame work costs inside workerd: `bun bench/profile/micro.ts [--n 20000]`.
 * For every op in `bench/profile/ops.ts`, asks the Worker to run it n times and reads workerd's CPU
 * time around the request; subtracts the `baseline` op; median of 5 alternating rounds. Compare
 * with the sequential RPC's server CPU per call (bare ≈ the cost of receiving and sending a frame).
 */
import { cpuNanos } from '../driver/proc.js';
import { pin } from '../driver/pin.js';
import { median } from '../shared/stats.js';
import { startBenchServer, type BenchServer, type WorkerScript } from '../driver/workerd.js';

const MICRO_WORKER: WorkerScript = { entry: 'profile/micro-worker.ts', name: 'micro-worker', durableObjects: {} };

const nArg = process.argv.indexOf('--n');
const n = nArg >= 0 ? Number(process.argv[nArg + 1]) : 20_000;
const ROUNDS = 5;

async function cpuOf(server: BenchServer, httpOrigin: string, op: string): Promise<number> {
	const before = cpuNanos(server.pid);
	const res = await fetch(`${httpOrigin}/micro/${encodeURIComponent(op)}?n=${n}`, { signal: AbortSignal.timeout(120_000) });
	if (!res.ok) throw new Error(`${op}: ${res.status} ${await res.text()}`);
	await res.text();
	return cpuNanos(server.pid) - before;
}

let server: BenchServer | undefined;
let code = 2;
try {
	server = await startBenchServer({ script: MICRO_WORKER });
	const pinning = pin(server.pid);
	const { httpOrigin } = server;
	const names = (await (await fetch(`${httpOrigin}/micro/list`)).json()) as string[];
	const samples = new Map<string, number[]>(names.map((name) => [name, []]));
	for (const name of names) await cpuOf(server, httpOrigin, name); // warm-up: JIT, first-use
	for (let round = 0; round < ROUNDS; round++) {
		for (const name of names) samples.get(name)!.push(await cpuOf(server, httpOrigin, name));
	}
	const base = median(samples.get('baseline')!);
	console.log(`\nCPU per op inside workerd (n = ${n}, median of ${ROUNDS}, baseline subtracted; ${pinning.note})\n`);
	console.log('| op | µs per op |\n|---|---:|');
	for (const name of names) {
		if (name === 'baseline') continue;
		console.log(`| ${name} | ${((median(samples.get(name)!) - base) / n / 1000).toFixed(2)} |`);
	}
	code = 0;
} catch (error) {
	console.error(error);
} finally {
	await server?.dispose().catch(() => {});
}
process.exit(code);
