/**
 * Memory per idle connection in the workerd process: what one more idle socket costs a process
 * already serving the room. Each measurement starts its own fresh workerd (with the inspector, to
 * force full garbage collections), so implementations never reuse each other's freed memory;
 * implementations alternate run by run.
 *
 *   1. `memoryWarmSockets` sockets join the room (step 3's traffic at that size): the code loaded
 *      and warm, and what a fresh process pays once paid (below);
 *   2. baseline: two forced full GCs (the inspector's `HeapProfiler.collectGarbage`), then RSS
 *      (`/proc/<pid>/status` VmRSS, RssAnon, RssFile) and the V8 heap in use;
 *   3. `memoryClients` more sockets join the same room from client processes (ours: until every
 *      socket knows everyone), then one more socket (its own client process) sends one broadcast
 *      to all of them, so every socket has sent a frame (workerd sets up some per-socket state
 *      lazily on first send);
 *   4. once the room is quiet: two forced GCs, RSS and heap again.
 *
 * Per connection = (after − baseline) ÷ the sockets step 3 added. RSS holds everything workerd
 * keeps per socket (kernel buffers are not in RSS): the socket, its HTTP and WebSocket state,
 * compression contexts when permessage-deflate was negotiated, buffers, and the room's JS objects
 * (the heap figure shows those alone).
 *
 * Why step 1: a fresh workerd also pays, over its first few hundred sockets, for things that do not
 * grow with them: pages of its own binary read in the first time a path runs (more for the side
 * whose room runs more of it), and memory its isolate and allocators keep once grown. Measured
 * from 5 sockets instead, ours read ~28 KiB per connection more and bare ~11 (`bench/README.md`,
 * "memory past a process's first sockets"). Those costs are reported apart: the first
 * `memoryWarmSockets` sockets' own figure, from the fresh process's RSS, everything included.
 *
 * Each run is made twice per implementation, each time in a fresh workerd: with the room awake
 * (steps 2 and 4 at once), and with the room hibernated (steps 2 and 4 after `evictionIdleMs` of
 * silence, past workerd's ~10 s eviction: the Durable Object is gone, its sockets stay open in the
 * runtime). The second is what an idle room costs in production, where hibernation is the point.
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

/**
 * `sockets` more sockets join `room`, where `inRoom` sessions are already (ours: until every socket
 * knows everyone), then one more socket (its own client process) sends one broadcast to all of them
 * and waits for its own copy. Resolves once the room is quiet, with the faults seen; every socket
 * stays open until `finish`.
 */
async function fill(bench: Bench, server: BenchServer, impl: Impl, room: string, sockets: number, inRoom: number) {
	const { options } = bench;
	const crowd = new Crowd(bench, impl, room, sockets, { broadcasts: 1, deadlineMs: 300_000, wsOrigin: server.wsOrigin, inRoom });
	let sender: ClientProcess | undefined;
	const finish = async () => void (await Promise.all([crowd.finish(), sender?.finish()]));
	try {
		await crowd.ready();
		const joined = await crowd.join(now(), options.quick ? 30_000 : 180_000);
		// Then one more socket, in its own process, sends the broadcast and waits for its own copy.
		sender = new ClientProcess(
			{
				role: 'send',
				impl,
				wsOrigin: server.wsOrigin,
				room,
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
		const faults = joined.failed + joined.unsettled + result.missing + result.duplicates + result.closed + sent.ownMissing;
		// The sender's socket is in the room too.
		return { sockets: sockets + 1, faults, notes: crowd.notes, finish };
	} catch (error) {
		await finish();
		throw error;
	}
}

async function oneRun(bench: Bench, impl: Impl, hibernated: boolean) {
	const { options } = bench;
	const server = await startBenchServer({ inspector: true });
	let cdp: Cdp | undefined;
	const open: Array<() => Promise<void>> = [];
	try {
		// Core 0, like the shared workerd (idle meanwhile).
		pin(server.pid);
		const limitNote = ensureFileLimit(server.pid, options.memoryWarmSockets + options.memoryClients + 256, 'workerd');
		cdp = new Cdp(`${server.inspectorUrl}/core:user:`);
		await cdp.opened;
		await cdp.send('HeapProfiler.enable');
		// Silence past the eviction: nothing is sent meanwhile (keep-alive pings, answered by the runtime, do not wake a room).
		const idle = () => (hibernated ? Bun.sleep(options.evictionIdleMs) : undefined);
		const fresh = await settle(server, cdp);

		const first = await fill(bench, server, impl, 'memory', options.memoryWarmSockets, 0);
		open.push(first.finish);
		await idle();
		const before = await settle(server, cdp);

		const added = await fill(bench, server, impl, 'memory', options.memoryClients, first.sockets);
		open.push(added.finish);
		await idle();
		const after = await settle(server, cdp);
		const sockets = added.sockets;
		return {
			rssPerSocket: (after.rss - before.rss) / sockets,
			// From the baseline after its GCs to the room before its own: the sockets' memory and their garbage.
			ungatheredPerSocket: (after.ungathered - before.rss) / sockets,
			anonPerSocket: (after.anon - before.anon) / sockets,
			fileGrowth: after.file - before.file,
			heapPerSocket: (after.heap - before.heap) / sockets,
			firstRssPerSocket: (before.rss - fresh.rss) / first.sockets,
			firstFileGrowth: before.file - fresh.file,
			fresh,
			before,
			after,
			sockets,
			faults: first.faults + added.faults,
			notes: [limitNote, ...first.notes, ...added.notes],
		};
	} finally {
		await Promise.all(open.map((finish) => finish()));
		cdp?.close();
		await server.dispose();
	}
}

export async function memoryScenario(bench: Bench): Promise<ScenarioResult> {
	const { options } = bench;
	const scenario = `memory per idle connection (${options.memoryClients} sockets after ${options.memoryWarmSockets})`;
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
				rows.add(
					impl,
					`${when}the room's first ${options.memoryWarmSockets + 1} sockets in a fresh workerd: RSS per connection (what a process pays once included)`,
					'KiB',
					r.firstRssPerSocket / 1024,
				);
				rows.add(impl, `${when}… of it: file-backed pages they added, all together (RssFile)`, 'MB', r.firstFileGrowth / 1e6);
				rows.add(impl, `${when}lost broadcast or socket`, 'count', r.faults, 'max');
				raw.push({ scenario, run, impl, hibernated, ...r });
				bench.log(
					`${scenario} run ${run + 1}/${options.memoryRuns} ${impl}${hibernated ? ', room hibernated' : ''}: RSS ${(r.rssPerSocket / 1024).toFixed(1)} KiB (before the GCs ${(r.ungatheredPerSocket / 1024).toFixed(1)}; anonymous ${(r.anonPerSocket / 1024).toFixed(1)} KiB; file-backed pages +${(r.fileGrowth / 1e6).toFixed(1)} MB in all), V8 heap ${(r.heapPerSocket / 1024).toFixed(2)} KiB per connection; the first ${options.memoryWarmSockets + 1} sockets ${(r.firstRssPerSocket / 1024).toFixed(1)} KiB each (file-backed +${(r.firstFileGrowth / 1e6).toFixed(1)} MB); faults ${r.faults}`,
				);
			}
		}
	}
	return { rows: rows.rows(), raw, faults };
}
