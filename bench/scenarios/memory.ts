/**
 * Memory per idle connection in the workerd process. Each measurement starts its own fresh workerd
 * (with the inspector, to force full garbage collections), so implementations never reuse each
 * other's freed memory; implementations alternate run by run.
 *
 *   1. warm up: 5 sockets in another room of the same implementation (code loaded, JIT warm);
 *   2. baseline: two forced full GCs (the inspector's `HeapProfiler.collectGarbage`), then RSS
 *      (`/proc/<pid>/status` VmRSS) and the V8 heap in use;
 *   3. `memoryClients` sockets join one room from client processes (ours: until every socket
 *      knows everyone), then one more socket (its own client process) sends one broadcast to all of them, so
 *      every socket has sent a frame (workerd sets up some per-socket state lazily on first send);
 *   4. once the room is quiet: two forced GCs, RSS and heap again.
 *
 * Each run is made twice per implementation, each time in a fresh workerd: with the room awake
 * (step 4 at once), and with the room hibernated (step 4 after `evictionIdleMs` of silence, past
 * workerd's ~10 s eviction: the Durable Object is gone, its sockets stay open in the runtime). The
 * second is what an idle room costs in production, where hibernation is the point.
 *
 * Per connection = (after − baseline) ÷ sockets in the room. RSS holds everything workerd keeps per
 * socket (kernel buffers are not in RSS): the socket, its HTTP and WebSocket state, compression
 * contexts when permessage-deflate was negotiated, buffers, and the room's JS objects (the heap
 * figure shows those alone). It also holds file-backed pages the run touched for the first time:
 * workerd's own code for paths only one implementation takes (storage, alarms, attachments) and a
 * room's SQLite files. Those stop growing after the first hundreds of sockets, so they are reported
 * apart, in all (RssFile), with the anonymous memory per connection (RssAnon) next to the total.
 *
 * The GCs are forced with `HeapProfiler.collectGarbage`, which workerd runs only when the isolate
 * next gets a turn: a request to the Worker gives it one (`/counters/`, which wakes no room). Heap
 * snapshots, which force full GCs too and were used before, cost memory of their own: their native
 * memory grows with the objects in the heap and stays in RSS once freed, which charged the side
 * keeping more JavaScript objects per socket ~17 KiB per socket of the snapshot's own memory (ours,
 * room awake, 1000 sockets). The RSS read just before the GCs is reported too: it holds garbage not
 * yet collected instead.
 */
import { Cdp } from '../driver/cdp.js';
import { now } from '../shared/clock.js';
import { RowCollector, orderFor, type Bench, type ScenarioResult } from '../context.js';
import { Crowd } from '../driver/crowd.js';
import type { Impl } from '../shared/impl.js';
import { ensureFileLimit } from '../driver/limits.js';
import { pin } from '../driver/pin.js';
import { rss } from '../driver/proc.js';
import { waitQuiet } from '../driver/quiet.js';
import { ClientProcess } from '../driver/child.js';
import { startBenchServer, type BenchServer } from '../driver/workerd.js';
import type { SendResult } from '../shared/wire.js';

/**
 * One full GC: asked of the inspector, which workerd runs at the isolate's next turn, given by a
 * request to the Worker that wakes no room (see the header).
 */
async function collectGarbage(server: BenchServer, cdp: Cdp): Promise<void> {
	const collected = cdp.send('HeapProfiler.collectGarbage', {}, 60_000).then(() => true);
	// Poked until it ran: a request that reached the isolate before the inspector's message would not do.
	do await (await fetch(`${server.httpOrigin}/counters/none`, { signal: AbortSignal.timeout(5_000) })).arrayBuffer();
	while (!(await Promise.race([collected, Bun.sleep(50).then(() => false)])));
}

/** Forces full GCs, then reads RSS and the V8 heap in use; `ungathered`: the RSS just before the GCs (see the header). */
async function settle(server: BenchServer, cdp: Cdp): Promise<{ rss: number; anon: number; file: number; heap: number; ungathered: number }> {
	await waitQuiet(server.pid, { maxMs: 10_000 });
	const ungathered = rss(server.pid).total;
	for (let i = 0; i < 2; i++) await collectGarbage(server, cdp);
	await Bun.sleep(300);
	const { usedSize } = await cdp.send<{ usedSize: number }>('Runtime.getHeapUsage');
	const { total, anon, file } = rss(server.pid);
	return { rss: total, anon, file, heap: usedSize, ungathered };
}

async function oneRun(bench: Bench, impl: Impl, hibernated: boolean) {
	const { options } = bench;
	const n = options.memoryClients;
	const server = await startBenchServer({ inspector: true });
	let cdp: Cdp | undefined;
	let warm: Crowd | undefined;
	let crowd: Crowd | undefined;
	let sender: ClientProcess | undefined;
	try {
		// Core 0, like the shared workerd (idle meanwhile).
		pin(server.pid);
		const limitNote = ensureFileLimit(server.pid, n + 256, 'workerd');
		cdp = new Cdp(`${server.inspectorUrl}/core:user:`);
		await cdp.opened;
		await cdp.send('HeapProfiler.enable');
		// 5 sockets in another room first: the code loaded and warm before the baseline is read.
		warm = new Crowd(bench, impl, 'warm', 5, { deadlineMs: 300_000, wsOrigin: server.wsOrigin });
		await warm.ready();
		await warm.join(now(), 30_000);
		const before = await settle(server, cdp);

		crowd = new Crowd(bench, impl, 'memory', n, { broadcasts: 1, deadlineMs: 300_000, wsOrigin: server.wsOrigin });
		await crowd.ready();
		const joined = await crowd.join(now(), options.quick ? 30_000 : 180_000);
		// One more socket, in its own process, sends the broadcast and waits for its own copy.
		sender = new ClientProcess(
			{
				role: 'send',
				impl,
				wsOrigin: server.wsOrigin,
				room: 'memory',
				deflate: options.deflate,
				deadlineMs: 120_000,
				broadcasts: 1,
				warmup: 0,
				window: 1,
				intervalMs: 0,
				payloadBytes: options.payloadBytes,
			},
			bench.pinning.prefix,
			bench.clientBunArgs,
		);
		await sender.wait('ready', 60_000);
		crowd.go();
		sender.say('go');
		const sent = await sender.wait<SendResult>('result', 30_000);
		await waitQuiet(server.pid, { maxMs: 10_000 });
		const result = await crowd.stop();
		// Silence past the eviction: nothing is sent meanwhile (keep-alive pings, answered by the runtime, do not wake a room).
		if (hibernated) await Bun.sleep(options.evictionIdleMs);
		const after = await settle(server, cdp);
		const sockets = n + 1;
		return {
			rssPerSocket: (after.rss - before.rss) / sockets,
			// From the baseline after its GCs to the room before its own: the sockets' memory and their garbage.
			ungatheredPerSocket: (after.ungathered - before.rss) / sockets,
			anonPerSocket: (after.anon - before.anon) / sockets,
			fileGrowth: after.file - before.file,
			heapPerSocket: (after.heap - before.heap) / sockets,
			before,
			after,
			sockets,
			faults: joined.failed + joined.unsettled + result.missing + result.duplicates + result.closed + sent.ownMissing,
			notes: [limitNote, ...crowd.notes],
		};
	} finally {
		await Promise.all([warm?.finish(), crowd?.finish(), sender?.finish()]);
		cdp?.close();
		await server.dispose();
	}
}

export async function memoryScenario(bench: Bench): Promise<ScenarioResult> {
	const { options } = bench;
	const scenario = `memory per idle connection (${options.memoryClients} sockets)`;
	const rows = new RowCollector(scenario);
	const raw: unknown[] = [];
	let faults = 0;
	for (let run = 0; run < options.memoryRuns; run++) {
		for (const impl of orderFor(run, options.impls)) {
			// Awake (the target's figure), then hibernated: each in a fresh workerd, rows named alike.
			for (const hibernated of [false, true]) {
				const r = await oneRun(bench, impl, hibernated);
				const when = hibernated ? 'room hibernated: ' : '';
				faults += r.faults;
				rows.add(impl, `${when}workerd RSS per connection`, 'KiB', r.rssPerSocket / 1024);
				rows.add(impl, `${when}V8 heap per connection`, 'KiB', r.heapPerSocket / 1024);
				rows.add(impl, `${when}… of the RSS: anonymous memory per connection (RssAnon)`, 'KiB', r.anonPerSocket / 1024);
				rows.add(impl, `${when}… of the RSS: file-backed pages the run added, all sockets together (RssFile)`, 'MB', r.fileGrowth / 1e6);
				rows.add(impl, `${when}… RSS read before the forced GCs (garbage included)`, 'KiB', r.ungatheredPerSocket / 1024);
				rows.add(impl, `${when}lost broadcast or socket`, 'count', r.faults, 'max');
				raw.push({ scenario, run, impl, hibernated, ...r });
				bench.log(
					`${scenario} run ${run + 1}/${options.memoryRuns} ${impl}${hibernated ? ', room hibernated' : ''}: RSS ${(r.rssPerSocket / 1024).toFixed(1)} KiB (before the GCs ${(r.ungatheredPerSocket / 1024).toFixed(1)}; anonymous ${(r.anonPerSocket / 1024).toFixed(1)} KiB; file-backed pages +${(r.fileGrowth / 1e6).toFixed(1)} MB in all), V8 heap ${(r.heapPerSocket / 1024).toFixed(2)} KiB per connection, faults ${r.faults}`,
				);
			}
		}
	}
	return { rows: rows.rows(), raw, faults };
}
