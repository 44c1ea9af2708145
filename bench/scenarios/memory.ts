/**
 * Memory per idle connection in the workerd process. Each measurement starts its own fresh workerd
 * (with the inspector, to force full garbage collections), so implementations never reuse each
 * other's freed memory; implementations alternate run by run.
 *
 *   1. warm up: 5 sockets in another room of the same implementation (code loaded, JIT warm);
 *   2. baseline: two forced full GCs (V8 heap snapshots: workerd's inspector has no plain
 *      `collectGarbage`; the first snapshot grows RSS by itself, the second does not), then
 *      RSS (`/proc/<pid>/status` VmRSS) and the V8 heap in use;
 *   3. `memoryClients` sockets join one room from client processes (ours: until every socket
 *      knows everyone), then one more socket from here sends one broadcast to all of them, so
 *      every socket has sent a frame (workerd sets up some per-socket state lazily on first send);
 *   4. once the room is quiet: two forced GCs, RSS and heap again.
 *
 * Per connection = (after − baseline) ÷ sockets in the room. RSS holds everything workerd keeps per
 * socket (kernel buffers are not in RSS): the socket, its HTTP and WebSocket state, compression
 * contexts when permessage-deflate was negotiated, buffers, and the room's JS objects (the heap
 * figure shows those alone).
 */
import { Cdp } from '../profile/cdp.js';
import { now } from '../clock.js';
import { RowCollector, orderFor, type Bench, type ScenarioResult } from '../context.js';
import { Crowd } from '../crowd.js';
import type { Impl } from '../impl.js';
import { ensureFileLimit } from '../limits.js';
import { pin } from '../pin.js';
import { rssBytes } from '../proc.js';
import { waitQuiet } from '../quiet.js';
import { connect, type BenchSocket } from '../sockets.js';
import { startBenchServer, type BenchServer } from '../workerd.js';
import type { Shout } from '../wire.js';

/** Forces full GCs, then reads RSS and the V8 heap in use. */
async function settle(server: BenchServer, cdp: Cdp): Promise<{ rss: number; heap: number }> {
	await waitQuiet(server.pid, { maxMs: 10_000 });
	for (let i = 0; i < 2; i++) await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false }, 120_000);
	await Bun.sleep(300);
	const { usedSize } = await cdp.send<{ usedSize: number }>('Runtime.getHeapUsage');
	return { rss: rssBytes(server.pid), heap: usedSize };
}

async function oneRun(bench: Bench, impl: Impl) {
	const { options } = bench;
	const n = options.memoryClients;
	const server = await startBenchServer({ inspector: true });
	let cdp: Cdp | undefined;
	let crowd: Crowd | undefined;
	const own: BenchSocket[] = [];
	try {
		// Core 0, like the shared workerd (idle meanwhile).
		pin(server.pid);
		const limitNote = ensureFileLimit(server.pid, n + 256, 'workerd');
		cdp = new Cdp(`${server.inspectorUrl}/core:user:`);
		await cdp.opened;
		await cdp.send('HeapProfiler.enable');
		const open = async (room: string) => {
			const socket = connect(impl, server.wsOrigin, room, { deflate: options.deflate });
			own.push(socket);
			await socket.opened;
			return socket;
		};
		for (let i = 0; i < 5; i++) await open('warm');
		const before = await settle(server, cdp);

		crowd = new Crowd(bench, impl, 'memory', n, { broadcasts: 1, deadlineMs: 300_000, wsOrigin: server.wsOrigin });
		await crowd.ready();
		const joined = await crowd.join(now(), options.quick ? 30_000 : 120_000);
		const sender = await open('memory');
		// Resolves true when the sender's own copy of the broadcast comes back, false after 10 s.
		let timer: ReturnType<typeof setTimeout> | undefined;
		const back = new Promise<boolean>((resolve) => {
			sender.onShout = () => resolve(true);
			timer = setTimeout(() => resolve(false), 10_000);
		});
		sender.shout({ seq: 0, t: now(), pad: 'x'.repeat(options.payloadBytes) } satisfies Shout);
		const echoed = await back;
		clearTimeout(timer);
		await waitQuiet(server.pid, { maxMs: 10_000 });
		crowd.go();
		const result = await crowd.stop();
		const after = await settle(server, cdp);
		const sockets = n + 1;
		return {
			rssPerSocket: (after.rss - before.rss) / sockets,
			heapPerSocket: (after.heap - before.heap) / sockets,
			before,
			after,
			sockets,
			faults: joined.failed + joined.unsettled + result.missing + result.duplicates + result.closed + (echoed ? 0 : 1),
			notes: [limitNote, ...crowd.notes],
		};
	} finally {
		for (const socket of own) socket.close();
		await crowd?.finish();
		cdp?.close();
		await server.dispose();
	}
}

export async function memoryScenario(bench: Bench): Promise<ScenarioResult> {
	const { options } = bench;
	const scenario = `memory per idle connection (${options.memoryClients} sockets${options.deflate ? '' : ', no deflate'})`;
	const rows = new RowCollector(scenario);
	const raw: unknown[] = [];
	let faults = 0;
	for (let run = 0; run < options.memoryRuns; run++) {
		for (const impl of orderFor(run, options.impls)) {
			const r = await oneRun(bench, impl);
			faults += r.faults;
			rows.add(impl, 'workerd RSS per connection', 'KiB', r.rssPerSocket / 1024);
			rows.add(impl, 'V8 heap per connection', 'KiB', r.heapPerSocket / 1024);
			rows.add(impl, 'lost broadcast or socket', 'count', r.faults, 'max');
			raw.push({ scenario, run, impl, ...r });
			bench.log(`${scenario} run ${run + 1}/${options.memoryRuns} ${impl}: RSS ${(r.rssPerSocket / 1024).toFixed(1)} KiB, V8 heap ${(r.heapPerSocket / 1024).toFixed(2)} KiB per connection, faults ${r.faults}`);
		}
	}
	return { rows: rows.rows(), raw, faults };
}
