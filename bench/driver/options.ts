/**
 * Command line: `bun bench/run.ts [--quick] [scenario …] [--name value …]`.
 * Scenario names filter by substring: `bun bench/run.ts fanout` runs both fan-out modes,
 * `bun bench/run.ts rpc concurrent` the two RPC scenarios.
 */
import { ALL_IMPLS, IMPLS, UNCOMPRESSED_ONLY, type Impl } from '../shared/impl.js';

/** The timing scenarios (what `bench/profile/workerd.ts` knows how to run). */
export const SCENARIOS = ['rpc', 'concurrent', 'fanout-saturated', 'fanout-paced'] as const;
/** Every scenario `run.ts` runs, in order: issue 8's scenarios 1–8. */
export const ALL_SCENARIOS = [...SCENARIOS, 'storm', 'memory', 'eviction', 'keepalive', 'bundle', 'soak', 'presence', 'shards'] as const;
export type ScenarioName = (typeof ALL_SCENARIOS)[number];

export interface Options {
	quick: boolean;
	scenarios: ScenarioName[];
	/** Implementations to run (`--impl ours,bare,bare-async`); ratios need `bare`. */
	impls: Impl[];
	/** Repeats of every scenario per implementation; the report shows the median. */
	runs: number;
	/** Measured round trips per run (sequential and per socket in `concurrent`). */
	calls: number;
	/**
	 * Round trips before measuring (per socket): DO construction, first-use costs, and the client
	 * reaching its steady state. With 100, Bun was still compiling the call path during the measured
	 * calls (on the clients' one core): our p99 5.6× bare's and client CPU per call 1.56×, against
	 * 1.3–1.4× and 1.3× once warmed by 1000 (same build).
	 */
	warmup: number;
	/** Length of the string padding every echo and broadcast payload. */
	payloadBytes: number;
	/** Sockets calling side by side in `concurrent`. */
	concurrency: number;
	/** Receivers in the fan-out room. */
	clients: number;
	/** Broadcasts per fan-out run. */
	broadcasts: number;
	/**
	 * Broadcasts before measuring, one at a time. A receiver's event path runs in the JIT's lower
	 * tiers for its first few thousand events, which a tab open for a while has long left behind;
	 * with 100 the client's CPU per delivery still fell as runs grew longer (see bench/README.md).
	 */
	fanoutWarmup: number;
	/** Most broadcasts the sender keeps unanswered. */
	window: number;
	/** Milliseconds between two broadcasts in `fanout-paced`. */
	interval: number;
	/** Receiver sockets per client process. */
	socketsPerProcess: number;
	/** Connect storm: clients joining one room at once. */
	stormClients: number;
	/** Repeats of the connect storm per implementation. */
	stormRuns: number;
	/** Most client processes one crowd (storm, memory, soak) is spread over. */
	crowdProcesses: number;
	/** Upgrades in flight per crowd process. */
	connectConcurrency: number;
	/** Memory: idle sockets per measurement (each in a fresh workerd), added to the room's first `memoryWarmSockets`. */
	memoryClients: number;
	/**
	 * Memory: sockets that join the room first, before the baseline is read, so that what a fresh
	 * process pays once (pages of its binary read in, memory its isolate and allocators keep once
	 * grown) is not charged to the sockets measured. Their own cost, that included, is reported apart.
	 */
	memoryWarmSockets: number;
	/** Repeats of the memory measurement per implementation. */
	memoryRuns: number;
	/** Eviction: repeats of the idle (all implementations idle side by side). */
	evictionRuns: number;
	/** Eviction: rooms per implementation in each repeat (each gives one first call). */
	evictionRooms: number;
	/** Eviction: sockets per room (the first one makes the calls); the wake's cost in a bigger room. */
	evictionSockets: number;
	/** Eviction: how long the rooms idle; workerd evicts an idle room after about 10 s. */
	evictionIdleMs: number;
	/** Keep-alive: how long the sockets idle while pinging. */
	keepaliveMs: number;
	/** Keep-alive: milliseconds between two pings of one socket. */
	pingEveryMs: number;
	/** Keep-alive: sockets per room. */
	keepaliveSockets: number;
	/**
	 * Soak: connections in one room. Each of ours is a `WebsocketClient` keeping the room's presence,
	 * which costs a client O(n) per join in a room of n (a copy of `sessions`); a crowd's clients
	 * share one core here, so filling a room costs the crowd O(n³): 1000 took about a minute on a
	 * busy machine, 5000 (the previous harness's soak, whose client kept no presence) would take
	 * hours.
	 */
	soakClients: number;
	/** Soak: seconds of traffic (one broadcast per second). */
	soakSeconds: number;
	/** Soak: milliseconds between two echo calls of one crowd process. */
	soakRpcEveryMs: number;
	/** Shards: receivers in the room, on one Durable Object and over 10 shards. */
	shardClients: number;
	/** Shards: measured broadcasts per run (after 5 warm-up broadcasts, at most `window` unanswered). */
	shardBroadcasts: number;
	/** Shards: runs per configuration (each joins `shardClients` sockets again: ~1 minute at 5000). */
	shardRuns: number;
	/** Where results go; `false` with `--no-write`. */
	write: boolean;
	/**
	 * The run's compression configuration, the same for every implementation. Off (the default):
	 * no socket is compressed (clients offer no permessage-deflate; our room declines it anyway).
	 * On (`--deflate`): every socket is (clients offer it, as browsers do; the baselines accept it,
	 * and `ours` is our room with `compression: true`). With it on, workerd compresses every frame
	 * for every socket separately, so per-delivery server CPU grows with frame size.
	 */
	deflate: boolean;
}

const FULL: Omit<Options, 'quick' | 'scenarios' | 'impls' | 'write' | 'deflate'> = {
	runs: 5,
	calls: 2000,
	warmup: 1000,
	payloadBytes: 64,
	concurrency: 16,
	clients: 200,
	broadcasts: 100,
	fanoutWarmup: 1000,
	window: 4,
	interval: 20,
	socketsPerProcess: 50,
	stormClients: 500,
	stormRuns: 3,
	crowdProcesses: 10,
	connectConcurrency: 32,
	memoryClients: 1000,
	memoryWarmSockets: 300,
	memoryRuns: 3,
	evictionRuns: 3,
	evictionRooms: 2,
	evictionSockets: 1,
	evictionIdleMs: 12_000,
	keepaliveMs: 60_000,
	pingEveryMs: 3_000,
	keepaliveSockets: 3,
	soakClients: 2000,
	soakSeconds: 60,
	soakRpcEveryMs: 100,
	shardClients: 5000,
	shardBroadcasts: 20,
	shardRuns: 1,
};

const QUICK: typeof FULL = {
	...FULL,
	runs: 2,
	calls: 100,
	warmup: 20,
	concurrency: 4,
	clients: 20,
	broadcasts: 20,
	fanoutWarmup: 20,
	interval: 3,
	socketsPerProcess: 10,
	stormClients: 50,
	stormRuns: 2,
	crowdProcesses: 3,
	memoryClients: 100,
	memoryWarmSockets: 20,
	memoryRuns: 1,
	evictionRuns: 1,
	evictionRooms: 1,
	keepaliveMs: 15_000,
	soakClients: 300,
	soakSeconds: 10,
	shardClients: 300,
	shardBroadcasts: 10,
};

const FLAGS = ['--quick', '--no-write', '--deflate'];
const USAGE = `usage: bun bench/run.ts [--quick] [--no-write] [--deflate] [${ALL_SCENARIOS.join('|')} …] [--impl ${ALL_IMPLS.join(',')}] [--${Object.keys(FULL).join(' N] [--')} N]`;

/**
 * `known`: the scenarios the caller runs (a filter matches among them); `run.ts` passes
 * `ALL_SCENARIOS`, the profiler keeps the default.
 */
export function parseOptions(argv: readonly string[], known: readonly ScenarioName[] = SCENARIOS): Options {
	const quick = argv.includes('--quick');
	const options: Options = {
		...(quick ? QUICK : FULL),
		quick,
		scenarios: [...known],
		impls: [...IMPLS],
		write: !argv.includes('--no-write'),
		deflate: argv.includes('--deflate'),
	};
	const filters: string[] = [];
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i]!;
		if (FLAGS.includes(arg)) continue;
		if (arg === '--help' || arg === '-h') throw new Error(USAGE);
		if (arg === '--impl') {
			const wanted = (argv[++i] ?? '').split(',').filter(Boolean);
			if (wanted.length === 0) throw new Error(`--impl needs a name: ${ALL_IMPLS.join(', ')}\n${USAGE}`);
			const unknown = wanted.filter((name) => !(ALL_IMPLS as readonly string[]).includes(name));
			if (unknown.length > 0)
				throw new Error(`unknown implementation ${unknown.map((n) => JSON.stringify(n)).join(', ')} for --impl; valid: ${ALL_IMPLS.join(', ')}\n${USAGE}`);
			options.impls = ALL_IMPLS.filter((impl) => wanted.includes(impl));
		} else if (arg.startsWith('--')) {
			const key = arg.slice(2) as keyof typeof FULL;
			const value = Number(argv[++i]);
			if (!(key in FULL) || !Number.isInteger(value) || value < 1) throw new Error(`bad option ${arg}\n${USAGE}`);
			options[key] = value;
		} else filters.push(arg);
	}
	const uncompressedOnly = options.impls.filter((impl) => UNCOMPRESSED_ONLY.includes(impl));
	if (options.deflate && uncompressedOnly.length > 0)
		throw new Error(`--impl ${uncompressedOnly.join(',')} has no room with compression on: not with --deflate\n${USAGE}`);
	if (filters.length > 0) {
		options.scenarios = known.filter((s) => filters.some((f) => s.includes(f)));
		if (options.scenarios.length === 0) throw new Error(`no scenario matches ${filters.join(', ')}\n${USAGE}`);
	}
	return options;
}
