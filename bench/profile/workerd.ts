/**
 * Where does workerd spend its time? `bun bench/profile/workerd.ts [scenario] [--impl ours] [options]`
 * runs the same scenarios as `run.ts` (one run each unless `--runs`), with V8's sampling profiler
 * on workerd switched on only inside each measured window, and prints self time per source module
 * and the hottest functions, per implementation. Profiles are also saved to `bench/.build/` for
 * Chrome DevTools. The inspector slows the isolate down: read shares, not absolute times.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cdp } from '../driver/cdp.js';
import { killAllClients, prepareClients } from '../driver/child.js';
import type { Bench } from '../context.js';
import { hotspots, type CpuProfile } from './cpuprofile.js';
import type { Impl } from '../shared/impl.js';
import { ALL_SCENARIOS, parseOptions } from '../driver/options.js';
import { pin } from '../driver/pin.js';
import { SCENARIO_RUNNERS } from '../scenarios/index.js';
import { startBenchServer, type BenchServer } from '../driver/workerd.js';

const argv = process.argv.slice(2).filter((a) => a !== '--client');
// `--client`: also profile the client processes (Bun's own profiler, markdown into bench/.build).
const profileClients = process.argv.includes('--client');
// Every scenario that opens measured windows: the throughput ones, and the first call after eviction.
const options = parseOptions(argv.includes('--runs') ? argv : [...argv, '--runs', '1'], ALL_SCENARIOS);
const log = (line: string) => process.stderr.write(`[profile] ${line}\n`);
const buildDir = join(import.meta.dir, '..', '.build');

let server: BenchServer | undefined;
let cdp: Cdp | undefined;
let code = 2;
try {
	await prepareClients();
	server = await startBenchServer({ inspector: true });
	const pinning = pin(server.pid);
	cdp = new Cdp(`${server.inspectorUrl}/core:user:`);
	await cdp.opened;
	await cdp.send('Profiler.enable');
	await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
	const profiles = new Map<Impl, CpuProfile[]>();
	const session = cdp;
	const bench: Bench = {
		server,
		pinning,
		options,
		log,
		clientBunArgs: profileClients
			? ['--cpu-prof', '--cpu-prof-md', '--cpu-prof-interval=100', `--cpu-prof-dir=${join(buildDir, 'client-profiles')}`]
			: undefined,
		window: {
			open: async () => void (await session.send('Profiler.start')),
			close: async (impl) => {
				const { profile } = await session.send<{ profile: CpuProfile }>('Profiler.stop');
				profiles.set(impl, [...(profiles.get(impl) ?? []), profile]);
			},
		},
	};
	for (const name of options.scenarios) {
		profiles.clear();
		await SCENARIO_RUNNERS[name](bench);
		mkdirSync(buildDir, { recursive: true });
		for (const [impl, list] of profiles) {
			list.forEach((p, i) => writeFileSync(join(buildDir, `${name}-${impl}-${i}.cpuprofile`), JSON.stringify(p)));
			const { totalMs, modules, functions } = hotspots(list, join(buildDir, 'bench-worker.js'), 'bench-worker.js');
			console.log(`\n### ${name} · ${impl}: ${totalMs.toFixed(0)} ms of samples (idle excluded)\n`);
			console.log('| module | ms | share |\n|---|---:|---:|');
			for (const m of modules.slice(0, 14)) console.log(`| ${m.name} | ${m.ms.toFixed(1)} | ${(m.share * 100).toFixed(1)} % |`);
			console.log('\n| function | module | ms | share |\n|---|---|---:|---:|');
			for (const f of functions.slice(0, 25)) console.log(`| ${f.name} | ${f.module} | ${f.ms.toFixed(1)} | ${(f.share * 100).toFixed(1)} % |`);
		}
	}
	code = 0;
} catch (error) {
	log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
	cdp?.close();
	killAllClients();
	await server?.dispose().catch(() => {});
}
process.exit(code);
