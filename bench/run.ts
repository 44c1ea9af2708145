/**
 * `npm run bench` (= `bun bench/run.ts`), the driver: starts ONE workerd hosting our room, a bare
 * hibernating DO and partyserver side by side (`worker/`), drives them from separate client
 * processes on 127.0.0.1 (`clients/`), prints a markdown table and writes
 * `bench/results/<timestamp>.json`. Issue 8's scenarios 1–8: RPC, concurrent RPC, fan-out
 * (saturated, paced), connect storm, memory per connection, first call after eviction, keep-alive
 * wake-ups, client bundle size, soak.
 *
 *   bun bench/run.ts                 full run, no socket compressed (see bench/README.md)
 *   bun bench/run.ts --deflate       the same with permessage-deflate on every socket
 *   bun bench/run.ts --quick         small smoke run for CI (≈ 60 s)
 *   bun bench/run.ts fanout          only scenarios whose name contains "fanout"
 *   bun bench/run.ts --clients 1000  any option in bench/options.ts
 *
 * Exit code: 0 fine; 1 a correctness failure: a delivery missing, duplicated or out of order, an
 * echo wrong or unanswered, a socket lost, a presence announcement lost, a wake-up caused by
 * keep-alive pings, a ping unanswered, or a room that was not evicted when it had to be (CI may
 * rely on this); 2 the harness itself failed. Never a timing assertion.
 */
import { killAllClients, prepareClients } from './driver/child.js';
import type { Bench, Row } from './context.js';
import { describeLibrary, describeMachine } from './driver/machine.js';
import { foreignShare, waitForQuietMachine } from './driver/noise.js';
import { ALL_SCENARIOS, parseOptions } from './driver/options.js';
import { pin } from './driver/pin.js';
import { markdownTable, markdownTargets } from './driver/report.js';
import { writeResults } from './driver/results.js';
import { SCENARIO_RUNNERS } from './scenarios/index.js';
import { checkTargets } from './driver/targets.js';
import { startBenchServer, type BenchServer } from './driver/workerd.js';

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

let server: BenchServer | undefined;
async function cleanup(): Promise<void> {
	killAllClients();
	const s = server;
	server = undefined;
	await s?.dispose().catch(() => {});
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
	process.on(signal, () => void cleanup().finally(() => process.exit(130)));
}

async function main(): Promise<number> {
	const options = parseOptions(process.argv.slice(2), ALL_SCENARIOS);
	const startedAt = new Date();
	const budget = setTimeout(
		() => {
			log('the whole run exceeded its time budget; stopping');
			void cleanup().finally(() => process.exit(2));
		},
		options.quick ? 300_000 : 3_600_000,
	);
	budget.unref();

	if (!options.quick) await waitForQuietMachine(log);
	log(`starting workerd (${options.quick ? 'quick' : 'full'} run: ${options.scenarios.join(', ')})`);
	await prepareClients();
	server = await startBenchServer();
	const pinning = pin(server.pid);
	log(`workerd pid ${server.pid} at ${server.wsOrigin}; ${pinning.note}`);
	const bench: Bench = { server, pinning, options, log };

	const rows: Row[] = [];
	const raw: unknown[] = [];
	let faults = 0;
	const noise: Record<string, string> = {};
	for (const name of options.scenarios) {
		const share = foreignShare();
		const result = await SCENARIO_RUNNERS[name](bench);
		noise[name] = `${(share() * 100).toFixed(1)} %`;
		log(`${name}: other processes used ${noise[name]} of the machine's CPU meanwhile`);
		rows.push(...result.rows);
		raw.push(...result.raw);
		faults += result.faults;
	}
	const targets = checkTargets(rows);
	const machine = describeMachine();
	const table = markdownTable(rows);

	console.log(`\n## Benchmark ${startedAt.toISOString()}${options.quick ? ' (quick)' : ''}: ${compression(options.deflate)}\n`);
	console.log(
		`${machine.cpu}, ${machine.cores} cores, ${machine.workerd}, bun ${machine.bun}; pinning: ${pinning.note}. Medians of ${options.runs} runs (connect storm ${options.stormRuns}, memory ${options.memoryRuns}, eviction ${options.evictionRuns} × ${options.evictionRooms} rooms; keep-alive and soak: one run; fault counts: the worst run). CPU used by other processes during each scenario: ${Object.entries(
			noise,
		)
			.map(([k, v]) => `${k} ${v}`)
			.join(', ')}.\n`,
	);
	console.log(table + '\n');
	if (targets.length) console.log(markdownTargets(targets) + '\n');
	const kinds =
		'missing / out-of-order / duplicate deliveries, wrong or failed echoes, lost sockets or presence, wake-ups by pings, unanswered pings, rooms not evicted';
	console.log(faults === 0 ? `Faults (${kinds}): 0` : `FAULTS: ${faults} (${kinds})`);

	if (options.write) {
		const file = writeResults(startedAt, {
			machine,
			library: describeLibrary(),
			pinning: pinning.note,
			pinned: pinning.applied,
			foreignCpu: noise,
			options,
			rows,
			targets,
			faults,
			runs: raw,
		});
		log(`wrote ${file}`);
	}
	return faults === 0 ? 0 : 1;
}

function compression(deflate: boolean): string {
	return deflate ? 'permessage-deflate on every socket (--deflate; ours with compression: true)' : 'no socket compressed';
}

let code = 2;
try {
	code = await main();
} catch (error) {
	log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
	await cleanup();
}
process.exit(code);
