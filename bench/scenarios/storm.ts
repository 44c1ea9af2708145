/**
 * Connect storm: `stormClients` sockets join one room at once, spread over a few client processes
 * (`connectConcurrency` upgrades in flight per process). Measured per implementation:
 *
 * - connections/s: clients ÷ (connect sent → last socket open);
 * - ours: the time until every socket knows every session (its `session:list` plus the
 *   `session:connected` announcements it heard);
 * - frames the room sent: every frame every client received from connect until the room was quiet
 *   again, and their size; frames per join = that ÷ clients;
 * - server CPU per connection: workerd CPU time over the same window ÷ clients.
 *
 * Ours coalesces presence (`presenceBatchMs`, 50 ms by default): joins close together go out as
 * one frame per socket, so a socket gets at most one presence frame per 50 ms however fast others
 * join. Next to `ours` (full presence, the default) run `ours-window` (`presence: { window: 50 }`,
 * the mode for rooms this big: each joiner gets the counts and 50 members, each join costs the
 * others a count) and `ours-unbatched` (presenceBatchMs 0): one frame per join per socket, the
 * N²/2 the coalescing avoids. The baselines have no presence and send nothing on connect.
 *
 * An upgrade that fails is tried again after 1 s and 2 s (as the library's client reconnects);
 * how many were refused at first is reported. Faults: sockets that failed three times, or never
 * learned of everyone (a lost announcement). Those of
 * `ours-unbatched` are reported but do not fail the run: it is a comparison, not a configuration
 * to use, and under a storm its N² frames can delay upgrades until they fail.
 */
import { now } from '../shared/clock.js';
import { RowCollector, orderFor, type Bench, type ScenarioResult } from '../context.js';
import { Crowd } from '../driver/crowd.js';
import { hasPresence, type Impl } from '../shared/impl.js';
import { cpuNanos } from '../driver/proc.js';
import { waitQuiet } from '../driver/quiet.js';

const UNBATCHED_MAX_CLIENTS = 2000;

export async function stormScenario(bench: Bench): Promise<ScenarioResult> {
	const { options, server } = bench;
	const n = options.stormClients;
	// Right after ours, when ours is measured at all: ours in window presence, the mode a room this
	// size should use (README, "Presence in big rooms"), its own target line against the same
	// baselines; and the unbatched room, up to a size where its N²/2 frames still take seconds, not
	// minutes (2000 clients: 2 million frames). Uncompressed only: neither has a `compression: true` variant.
	const unbatched = n <= UNBATCHED_MAX_CLIENTS;
	const wanted: Impl[] = options.deflate ? [] : unbatched ? ['ours-window', 'ours-unbatched'] : ['ours-window'];
	const companions = wanted.filter((impl) => !options.impls.includes(impl));
	const impls: Impl[] = options.impls.flatMap((impl) => (impl === 'ours' ? ['ours', ...companions] : [impl]));
	if (n > UNBATCHED_MAX_CLIENTS) bench.log(`connect storm: ${n} clients is more than ${UNBATCHED_MAX_CLIENTS}; not running the unbatched comparison`);
	const scenario = `connect storm (${n} clients)`;
	const rows = new RowCollector(scenario);
	const raw: unknown[] = [];
	let faults = 0;
	const joinTimeoutMs = options.quick ? 30_000 : 180_000;
	for (let run = 0; run < options.stormRuns; run++) {
		for (const impl of orderFor(run, impls)) {
			// The previous room's clients just left: its leave announcements must be over.
			await waitQuiet(server.pid, { maxMs: 30_000 });
			const crowd = new Crowd(bench, impl, `storm-${impl}-${run}-${Date.now()}`, n, { deadlineMs: joinTimeoutMs + 120_000 });
			try {
				await crowd.ready();
				await bench.window?.open(impl);
				const cpu = cpuNanos(server.pid);
				const joined = await crowd.join(now(), joinTimeoutMs);
				// The last presence frames may still be in flight: wait for the room to go quiet.
				const quiet = await waitQuiet(server.pid, { maxMs: 30_000 });
				const serverNs = cpuNanos(server.pid) - cpu;
				await bench.window?.close(impl);
				crowd.go();
				const result = await crowd.stop();
				const connectMs = joined.lastOpenAt - joined.connectAt;
				const settleMs = joined.settledAt - joined.connectAt;
				const bad = joined.failed + joined.unsettled + result.closed;
				// The unbatched room is a comparison, not a configuration anyone should run: what it
				// fails to do under a storm is reported in the table, but does not fail the run.
				if (impl !== 'ours-unbatched') faults += bad;
				rows.add(impl, 'connections/s', '1/s', (n / connectMs) * 1000);
				if (hasPresence(impl)) rows.add(impl, 'until every socket knows everyone', 'ms', settleMs);
				rows.add(impl, 'frames sent by the room', 'count', result.frames);
				rows.add(impl, 'frames per join', 'frames', result.frames / n);
				rows.add(impl, 'data sent by the room', 'MB', result.chars / 1e6);
				rows.add(impl, 'server CPU per connection', 'µs', serverNs / n / 1000);
				rows.add(impl, 'client CPU per connection', 'µs', joined.clientCpuUs / n);
				rows.add(impl, '… of it in JIT compiler threads', 'µs', joined.clientJitCpuUs / n);
				rows.add(impl, 'upgrades refused, then retried', 'count', joined.retried, 'max');
				rows.add(impl, 'failed + never saw everyone', 'count', bad, 'max');
				raw.push({
					scenario,
					run,
					impl,
					clients: n,
					connectMs,
					settleMs,
					joined,
					frames: result.frames,
					chars: result.chars,
					serverNs,
					quietAfter: quiet,
					closed: result.closed,
					notes: crowd.notes,
				});
				bench.log(
					`${scenario} run ${run + 1}/${options.stormRuns} ${impl}: ${((n / connectMs) * 1000).toFixed(0)} connections/s, everyone known after ${settleMs.toFixed(0)} ms, ${result.frames} frames (${(result.frames / n).toFixed(1)} per join), server ${(serverNs / n / 1000).toFixed(0)} µs/connection, clients ${(joined.clientCpuUs / n).toFixed(0)} µs/connection (JIT threads ${(joined.clientJitCpuUs / n).toFixed(0)}), faults ${bad}${bad || joined.retried ? ` (retried ${joined.retried}, failed ${joined.failed} ${JSON.stringify(joined.failReasons)}, unsettled ${joined.unsettled}, closed ${result.closed}, leaves heard ${joined.leaves}, sessions known ${joined.fewestSessions}–${joined.mostSessions})` : ''}`,
				);
			} finally {
				await crowd.finish();
			}
		}
	}
	return { rows: rows.rows(), raw, faults };
}
