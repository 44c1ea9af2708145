/**
 * Soak: `soakClients` connections in one room, spread over up to `crowdProcesses` client processes,
 * kept open for `soakSeconds` with traffic: one broadcast per second from a sender in its own
 * process (ours `rpc.shout`, the baselines a "b…" frame), stamped and sequenced, plus echo calls
 * (each crowd process one every `soakRpcEveryMs`, round robin over its sockets). Nothing may be
 * lost: every socket must get every broadcast exactly once and in order, every call its answer, no
 * socket may close, and (ours) every socket must have learned of every other one while joining.
 * An upgrade refused while joining is tried again after 1 s and 2 s, as the library's client
 * reconnects; refusals are reported, a socket refused three times is lost.
 *
 * Bounded: joining has a deadline, the traffic a fixed number of broadcasts, every process a hard
 * deadline. Open-file limits are checked (and raised with `prlimit` when the hard limit allows)
 * for workerd and every client process. One run per implementation; `--quick` runs ours only.
 */
import { ClientProcess } from '../driver/child.js';
import { now } from '../shared/clock.js';
import { RowCollector, type Bench, type ScenarioResult } from '../context.js';
import { Crowd } from '../driver/crowd.js';
import { hasPresence, type Impl } from '../shared/impl.js';
import { ensureFileLimit } from '../driver/limits.js';
import { cpuNanos, rss as rssOf } from '../driver/proc.js';
import { waitQuiet } from '../driver/quiet.js';
import { summarize } from '../shared/stats.js';
import type { SendResult } from '../shared/wire.js';

export async function soakScenario(bench: Bench): Promise<ScenarioResult> {
	const { options, server } = bench;
	const n = options.soakClients;
	const seconds = options.soakSeconds;
	// CI's smoke run has no time for three soaks: ours is the one that must lose nothing.
	const impls: Impl[] = options.quick && options.impls.includes('ours') ? ['ours'] : options.impls;
	const scenario = `soak (${n} connections, ${seconds} s, 1 broadcast/s + echo calls)`;
	const rows = new RowCollector(scenario);
	const raw: unknown[] = [];
	let faults = 0;
	const workerdNote = ensureFileLimit(server.pid, n + 512, 'workerd');
	const joinTimeoutMs = options.quick ? 60_000 : 900_000;
	for (const impl of impls) {
		await waitQuiet(server.pid, { maxMs: 60_000 });
		const room = `soak-${impl}-${Date.now()}`;
		const crowd = new Crowd(bench, impl, room, n, {
			broadcasts: seconds,
			rpcEveryMs: options.soakRpcEveryMs,
			deadlineMs: joinTimeoutMs + seconds * 1000 + 300_000,
		});
		let sender: ClientProcess | undefined;
		try {
			await crowd.ready();
			bench.log(`${scenario} ${impl}: joining`);
			const joinCpu = cpuNanos(server.pid);
			const joined = await crowd.join(now(), joinTimeoutMs);
			const joinQuiet = await waitQuiet(server.pid, { maxMs: 120_000 });
			const joinServerNs = cpuNanos(server.pid) - joinCpu;
			sender = new ClientProcess(
				{
					role: 'send',
					impl,
					wsOrigin: server.wsOrigin,
					room,
					deflate: options.deflate,
					deadlineMs: seconds * 1000 + 300_000,
					broadcasts: seconds,
					warmup: 1,
					window: 4,
					intervalMs: 1000,
					payloadBytes: options.payloadBytes,
				},
				bench.pinning.prefix,
				bench.clientBunArgs,
			);
			await sender.wait('ready', 120_000);
			await waitQuiet(server.pid, { maxMs: 60_000 });
			const rssBefore = rssOf(server.pid).total;
			const cpu = cpuNanos(server.pid);
			const startedAt = now();
			bench.log(
				`${scenario} ${impl}: ${n} joined in ${((joined.lastOpenAt - joined.connectAt) / 1000).toFixed(1)} s (everyone known after ${((joined.settledAt - joined.connectAt) / 1000).toFixed(1)} s; retried ${joined.retried}, failed ${joined.failed} ${JSON.stringify(joined.failReasons)}, unsettled ${joined.unsettled}, closed ${joined.closedAtJoin}, leaves heard ${joined.leaves}, sessions known ${joined.fewestSessions}–${joined.mostSessions}); traffic for ${seconds} s`,
			);
			crowd.go();
			sender.say('go');
			const sent = await sender.wait<SendResult>('result', seconds * 1000 + 60_000);
			// The last broadcast's deliveries and the calls in flight: a moment, then the room is quiet.
			await Bun.sleep(1_000);
			await waitQuiet(server.pid, { maxMs: 30_000 });
			const result = await crowd.stop(60_000);
			const serverNs = cpuNanos(server.pid) - cpu;
			const elapsedMs = now() - startedAt;
			const rss = rssOf(server.pid).total;
			const latency = summarize(result.latencies);
			const calls = summarize(result.callLatencies);
			const lost = {
				failedToConnect: joined.failed,
				neverSawEveryone: joined.unsettled,
				missing: result.missing + sent.ownMissing,
				outOfOrder: result.outOfOrder,
				duplicates: result.duplicates,
				callErrors: result.callErrors,
				closed: result.closed,
			};
			const bad = Object.values(lost).reduce((a, b) => a + b, 0);
			faults += bad;
			rows.add(impl, 'connections/s while joining', '1/s', (n / (joined.lastOpenAt - joined.connectAt)) * 1000);
			if (hasPresence(impl)) rows.add(impl, 'until every socket knows everyone', 's', (joined.settledAt - joined.connectAt) / 1000);
			rows.add(impl, 'server CPU per connection while joining', 'µs', joinServerNs / n / 1000);
			rows.add(impl, 'upgrades refused, then retried', 'count', joined.retried, 'max');
			rows.add(impl, 'broadcast deliveries', 'count', result.deliveries);
			rows.add(impl, 'delivery latency p50', 'ms', latency.p50);
			rows.add(impl, 'delivery latency p99', 'ms', latency.p99);
			rows.add(impl, 'delivery latency max', 'ms', latency.max);
			rows.add(impl, 'echo calls answered', 'count', result.calls - result.callErrors);
			rows.add(impl, 'echo round trip p50', 'ms', calls.p50);
			rows.add(impl, 'echo round trip p99', 'ms', calls.p99);
			rows.add(impl, 'server CPU while soaking (share of a core)', '%', (serverNs / 1e6 / elapsedMs) * 100);
			rows.add(impl, 'workerd RSS at the end', 'MB', rss / 1e6);
			rows.add(impl, 'lost: missing + out-of-order + duplicate + failed calls + closed + unjoined', 'count', bad, 'max');
			raw.push({
				scenario,
				impl,
				clients: n,
				seconds,
				joined,
				joinQuiet,
				joinServerNs,
				sender: sent,
				lost,
				closeCodes: result.closeCodes,
				deliveries: result.deliveries,
				expected: result.expected,
				latency,
				calls: { ...calls, n: result.calls, errors: result.callErrors },
				frames: result.frames,
				serverNs,
				elapsedMs,
				rssBefore,
				rss,
				notes: [workerdNote, ...crowd.notes],
			});
			bench.log(
				`${scenario} ${impl}: ${result.deliveries}/${result.expected} deliveries, p99 ${latency.p99.toFixed(1)} ms, ${result.calls} calls (${result.callErrors} failed), ${result.closed} closed (codes ${JSON.stringify(result.closeCodes)}), lost ${bad}; ${JSON.stringify(lost)}`,
			);
		} finally {
			await Promise.all([crowd.finish(), sender?.finish()]);
		}
	}
	return { rows: rows.rows(), raw, faults };
}
