/**
 * Command line: `bun bench/run.ts [--quick] [scenario …] [--name value …]`.
 * Scenario names filter by substring: `bun bench/run.ts fanout` runs both fan-out modes,
 * `bun bench/run.ts rpc concurrent` the two RPC scenarios.
 */
import { ALL_IMPLS, IMPLS, type Impl } from './impl.js';

export const SCENARIOS = ['rpc', 'concurrent', 'fanout-saturated', 'fanout-paced'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface Options {
	quick: boolean;
	scenarios: ScenarioName[];
	/** Implementations to run (`--impl ours,bare,capnweb`); ratios need `bare`. */
	impls: Impl[];
	/** Repeats of every scenario per implementation; the report shows the median. */
	runs: number;
	/** Measured round trips per run (sequential and per socket in `concurrent`). */
	calls: number;
	/** Round trips before measuring: JIT, DO construction, first-use costs. */
	warmup: number;
	/** Length of the string padding every echo and broadcast payload. */
	payloadBytes: number;
	/** Sockets calling side by side in `concurrent`. */
	concurrency: number;
	/** Receivers in the fan-out room. */
	clients: number;
	/** Broadcasts per fan-out run. */
	broadcasts: number;
	/** Most broadcasts the sender keeps unanswered. */
	window: number;
	/** Milliseconds between two broadcasts in `fanout-paced`. */
	interval: number;
	/** Receiver sockets per client process. */
	socketsPerProcess: number;
	/** Where results go; `false` with `--no-write`. */
	write: boolean;
	/**
	 * Whether clients offer permessage-deflate, as browsers do (`--no-deflate` to turn it off).
	 * With it on, workerd compresses every frame for every socket separately, so per-delivery
	 * server CPU grows with frame size.
	 */
	deflate: boolean;
}

const FULL: Omit<Options, 'quick' | 'scenarios' | 'impls' | 'write' | 'deflate'> = {
	runs: 5,
	calls: 2000,
	warmup: 100,
	payloadBytes: 64,
	concurrency: 16,
	clients: 200,
	broadcasts: 100,
	window: 4,
	interval: 20,
	socketsPerProcess: 50,
};

const QUICK: typeof FULL = { ...FULL, runs: 2, calls: 100, warmup: 20, concurrency: 4, clients: 20, broadcasts: 20, interval: 3, socketsPerProcess: 10 };

const FLAGS = ['--quick', '--no-write', '--no-deflate'];
const USAGE = `usage: bun bench/run.ts [--quick] [--no-write] [--no-deflate] [${SCENARIOS.join('|')} …] [--impl ${ALL_IMPLS.join(',')}] [--${Object.keys(FULL).join(' N] [--')} N]`;

export function parseOptions(argv: readonly string[]): Options {
	const quick = argv.includes('--quick');
	const options: Options = { ...(quick ? QUICK : FULL), quick, scenarios: [...SCENARIOS], impls: [...IMPLS], write: !argv.includes('--no-write'), deflate: !argv.includes('--no-deflate') };
	const filters: string[] = [];
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i]!;
		if (FLAGS.includes(arg)) continue;
		if (arg === '--help' || arg === '-h') throw new Error(USAGE);
		if (arg === '--impl') {
			const wanted = (argv[++i] ?? '').split(',');
			options.impls = ALL_IMPLS.filter((impl) => wanted.includes(impl));
			if (options.impls.length === 0) throw new Error(`bad --impl\n${USAGE}`);
		} else if (arg.startsWith('--')) {
			const key = arg.slice(2) as keyof typeof FULL;
			const value = Number(argv[++i]);
			if (!(key in FULL) || !Number.isInteger(value) || value < 1) throw new Error(`bad option ${arg}\n${USAGE}`);
			options[key] = value;
		} else filters.push(arg);
	}
	if (filters.length > 0) {
		options.scenarios = SCENARIOS.filter((s) => filters.some((f) => s.includes(f)));
		if (options.scenarios.length === 0) throw new Error(`no scenario matches ${filters.join(', ')}\n${USAGE}`);
	}
	return options;
}
