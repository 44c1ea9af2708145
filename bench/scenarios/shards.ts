/**
 * One room past one Durable Object: `shardClients` receivers (5000) in one room, on one Durable Object
 * (`ours-window`) and over 10 shards (`ours-sharded`, `static options.shards`), both with window
 * presence and each socket its own user, side by side in the same workerd. One sender asks for
 * `shardBroadcasts` broadcasts (`rpc.shout`, which calls `room.broadcast`: in the sharded room, the
 * sender's shard delivers to its sockets and relays the frame to the 9 others over Workers RPC), at
 * most `window` unanswered, as the saturated fan-out does (`fanout.ts`, whose run this reuses).
 *
 * Reported for both: deliveries/s, delivery latency, server CPU per delivery (workerd CPU ÷
 * `broadcasts × (clients + 1)` frames), and missing + out-of-order + duplicate deliveries, which must
 * be 0. Locally every shard runs in the one workerd process, pinned to one core: sharding cannot add
 * throughput here, so what this measures is what the relaying costs per delivery. In production each
 * shard is its own Durable Object (its own thread, often its own machine), so a room's capacity grows
 * with its shards: 10 shards hold up to 327,680 sockets and take ~10,000 requests/s.
 *
 * Bounded: 5000 sockets join in ten processes of 500 (about a minute per configuration on this
 * machine), 5 warm-up broadcasts, `fanout.ts`'s deadlines on every wait: about 2.5 minutes for
 * `shardRuns` 1; `--quick` uses 300 sockets.
 */
import { RowCollector, orderFor, type Bench, type ScenarioResult } from '../context.js';
import { ensureFileLimit } from '../driver/limits.js';
import type { Impl } from '../shared/impl.js';
import { oneRun, tally } from './fanout.js';

const IMPLS: readonly Impl[] = ['ours-window', 'ours-sharded'];
/** Sockets per receiver process: 10 processes for 5000 sockets. */
const SOCKETS_PER_PROCESS = 500;

export async function shardsScenario(bench: Bench): Promise<ScenarioResult> {
	const { options } = bench;
	const clients = options.shardClients;
	const scenario = `one room past one Durable Object (${clients} clients, 10 shards vs 1)`;
	const rows = new RowCollector(scenario);
	const raw: unknown[] = [];
	let faults = 0;
	const note = ensureFileLimit(bench.server.pid, clients * 2 + 512, 'workerd');
	// A warm-up of 1000 broadcasts (the fan-out's) would be 5 million deliveries: 5 are enough here.
	const run = {
		...bench,
		options: {
			...options,
			clients,
			broadcasts: options.shardBroadcasts,
			fanoutWarmup: 5,
			socketsPerProcess: Math.min(SOCKETS_PER_PROCESS, Math.max(options.socketsPerProcess, Math.ceil(clients / 10))),
		},
	};
	const runs = options.shardRuns;
	for (let r = 0; r < runs; r++) {
		for (const impl of orderFor(r, IMPLS)) {
			const { sent, got, serverNs } = await oneRun(run, impl, `shards-${impl}-${r}-${Date.now()}`, 'saturated');
			const { deliveries, missing, outOfOrder, duplicates, latency, perSec } = tally(sent, got);
			const framesSent = run.options.broadcasts * (clients + 1);
			const serverUs = serverNs / framesSent / 1000;
			const bad = missing + outOfOrder + duplicates;
			faults += bad;
			rows.add(impl, 'deliveries/s', '1/s', perSec);
			rows.add(impl, 'delivery latency p50', 'ms', latency.p50);
			rows.add(impl, 'delivery latency p99', 'ms', latency.p99);
			rows.add(impl, 'server CPU per delivery', 'µs', serverUs);
			rows.add(impl, 'missing + out-of-order + duplicate', 'count', bad, 'max');
			raw.push({ scenario, run: r, impl, clients, deliveries, missing, outOfOrder, duplicates, perSec, latency, serverNs, framesSent, sender: sent, note });
			bench.log(
				`${scenario} run ${r + 1}/${runs} ${impl}: ${perSec.toFixed(0)} deliveries/s, p50 ${latency.p50.toFixed(1)} ms, server ${serverUs.toFixed(2)} µs/delivery, faults ${bad}`,
			);
		}
	}
	return { rows: rows.rows(), raw, faults };
}
