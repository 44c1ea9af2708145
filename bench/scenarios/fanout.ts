/**
 * Broadcast fan-out: `clients` receivers in one room (spread over a few client processes) and one
 * sender in its own process. The sender asks for `broadcasts` broadcasts (ours: `void rpc.shout(x)`,
 * a fire-and-forget call to `room.broadcast` that gets no reply, like bare's and partyserver's
 * "b…" frame), each stamped on the shared clock, one broadcast per frame, at most `window`
 * unanswered (answered = its own copy came back).
 *
 * Two modes, because on this machine all clients share one core:
 *
 * - `saturated`: the sender goes as fast as the window allows. Deliveries/s (receiver deliveries
 *   over first send → last delivery anywhere) is then capped by whichever core saturates first,
 *   the room's or the clients'; latency is mostly queueing.
 * - `paced`: one broadcast every `interval` ms, well below saturation, so every broadcast finds
 *   every receiver process asleep and wakes it once. This keeps the per-delivery costs comparable
 *   between implementations: when a slow client keeps its core busy, the room's writes stop paying
 *   for waking it up, which would make a slower client look like a cheaper server. Server CPU per
 *   delivery (workerd CPU ÷ frames the broadcasts made it send, `broadcasts × (clients + 1)`, the
 *   sender's copy included; our RPC reply to the sender is charged to ours) and client CPU per
 *   delivery are taken from this mode, and its latency is the fan-out time of one broadcast.
 *
 * Both count missing, duplicated and out-of-order deliveries, which must all be 0.
 */
import { ClientProcess } from '../driver/child.js';
import { RowCollector, orderFor, type Bench, type ScenarioResult } from '../context.js';
import { shares } from '../driver/crowd.js';
import type { Impl } from '../shared/impl.js';
import { cpuNanos } from '../driver/proc.js';
import { waitQuiet } from '../driver/quiet.js';
import { summarize } from '../shared/stats.js';
import type { ReceiveResult, SendResult } from '../shared/wire.js';

export type FanoutMode = 'saturated' | 'paced';

/** One fan-out run of `impl` in `room`, with `bench.options` (the `shards` scenario runs it with its own). */
export async function oneRun(bench: Bench, impl: Impl, room: string, mode: FanoutMode) {
	const { options, server, pinning } = bench;
	const common = { impl, wsOrigin: server.wsOrigin, room, deflate: options.deflate, deadlineMs: 180_000 };
	// A stuck run fails within the smoke run's budget, or the full run's.
	const resultTimeout = options.quick ? 30_000 : 150_000;
	const receivers = shares(options.clients, options.socketsPerProcess).map(
		(sockets) => new ClientProcess({ ...common, role: 'receive', sockets, broadcasts: options.broadcasts }, pinning.prefix, bench.clientBunArgs),
	);
	let sender: ClientProcess | undefined;
	try {
		await Promise.all(receivers.map((r) => r.wait('ready', 120_000)));
		sender = new ClientProcess(
			{
				...common,
				role: 'send',
				broadcasts: options.broadcasts,
				// Steady state, as in a tab that has been open a while: not counted.
				warmup: options.fanoutWarmup,
				window: options.window,
				intervalMs: mode === 'paced' ? options.interval : 0,
				payloadBytes: options.payloadBytes,
			},
			pinning.prefix,
			bench.clientBunArgs,
		);
		await sender.wait('ready', 60_000);
		// Presence announcements of the connect storm (ours) must be over before measuring.
		const quiet = await waitQuiet(server.pid, { maxMs: 30_000 });
		await bench.window?.open(impl);
		const cpu = cpuNanos(server.pid);
		for (const r of receivers) r.say('go');
		sender.say('go');

		const sent = await sender.wait<SendResult>('result', resultTimeout);
		// Receivers report once they have everything; one still waiting after a grace period has
		// lost something: `stop` makes it report what it has.
		const grace = (options.quick ? 2_000 : 10_000) + options.broadcasts * options.clients * 0.05;
		const pending = receivers.map((r) => r.wait<ReceiveResult>('result', grace));
		const got = await Promise.all(
			pending.map((p, i) =>
				p.catch(() => {
					receivers[i]!.say('stop');
					return receivers[i]!.wait<ReceiveResult>('result', 10_000);
				}),
			),
		);
		const serverNs = cpuNanos(server.pid) - cpu;
		await bench.window?.close(impl);
		return { sent, got, serverNs, quiet };
	} finally {
		await Promise.all([...receivers, ...(sender ? [sender] : [])].map((c) => c.finish()));
	}
}

/** One run's deliveries, summed over the receiver processes: counts, faults, latency and deliveries/s (first send → last delivery). */
export function tally(sent: SendResult, got: ReceiveResult[]) {
	const deliveries = got.reduce((n, g) => n + g.deliveries, 0);
	const lastAt = Math.max(...got.map((g) => g.lastAt));
	return {
		deliveries,
		missing: got.reduce((n, g) => n + g.missing, 0) + sent.ownMissing,
		outOfOrder: got.reduce((n, g) => n + g.outOfOrder, 0),
		duplicates: got.reduce((n, g) => n + g.duplicates, 0),
		latency: summarize(got.flatMap((g) => g.latencies)),
		perSec: (deliveries / (lastAt - sent.startAt)) * 1000,
	};
}

export async function fanoutScenario(bench: Bench, mode: FanoutMode): Promise<ScenarioResult> {
	const { options } = bench;
	const scenario = `fan-out ${mode} (${options.clients} clients${mode === 'paced' ? `, 1 per ${options.interval} ms` : ''})`;
	const rows = new RowCollector(scenario);
	const raw: unknown[] = [];
	let faults = 0;
	for (let run = 0; run < options.runs; run++) {
		for (const impl of orderFor(run, options.impls)) {
			const { sent, got, serverNs, quiet } = await oneRun(bench, impl, `fanout-${mode}-${impl}-${run}`, mode);
			const { deliveries, missing, outOfOrder, duplicates, latency, perSec } = tally(sent, got);
			const framesSent = options.broadcasts * (options.clients + 1);
			const serverUs = serverNs / framesSent / 1000;
			const clientUs = got.reduce((n, g) => n + g.clientCpuUs, 0) / Math.max(1, deliveries);
			const bad = missing + outOfOrder + duplicates;
			faults += bad;

			if (mode === 'saturated') rows.add(impl, 'deliveries/s', '1/s', perSec);
			rows.add(impl, 'delivery latency p50', 'ms', latency.p50);
			rows.add(impl, 'delivery latency p99', 'ms', latency.p99);
			rows.add(impl, 'delivery latency max', 'ms', latency.max);
			if (mode === 'paced') {
				rows.add(impl, 'server CPU per delivery', 'µs', serverUs);
				rows.add(impl, 'client CPU per delivery', 'µs', clientUs);
			}
			rows.add(impl, 'missing + out-of-order + duplicate', 'count', bad, 'max');
			raw.push({
				scenario,
				run,
				impl,
				deliveries,
				missing,
				outOfOrder,
				duplicates,
				perSec,
				latency,
				serverNs,
				framesSent,
				serverUsPerDelivery: serverUs,
				clientUsPerDelivery: clientUs,
				quietBeforeStart: quiet,
				sender: sent,
			});
			bench.log(
				`${scenario} run ${run + 1}/${options.runs} ${impl}: ${perSec.toFixed(0)} deliveries/s, p50 ${latency.p50.toFixed(2)} ms, server ${serverUs.toFixed(2)} µs/delivery, client ${clientUs.toFixed(2)} µs/delivery, faults ${bad}`,
			);
		}
	}
	return { rows: rows.rows(), raw, faults };
}
