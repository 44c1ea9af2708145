/**
 * Round trips through each implementation's echo: our `ws.rpc.echo(x)` through `WebsocketClient`,
 * a raw echo on the bare DO, partyserver's echo; same payload. Server CPU per call is the workerd
 * process's CPU time over the measured calls, divided by their number.
 *
 * `sequential`: one socket, one call at a time: latency (median, p99) and calls/s.
 * `concurrent`: `concurrency` sockets in one room, each calling one at a time, side by side:
 * throughput and server CPU per call when the room is busy.
 */
import { ClientProcess } from '../driver/child.js';
import { RowCollector, orderFor, type Bench, type ScenarioResult } from '../context.js';
import { cpuNanos, cpuTicksNanos } from '../driver/proc.js';
import { waitQuiet } from '../driver/quiet.js';
import type { Impl } from '../shared/impl.js';
import type { RpcResult } from '../shared/wire.js';

async function oneRun(bench: Bench, impl: Impl, room: string, sockets: number) {
	const { options, server } = bench;
	const client = new ClientProcess(
		{
			role: 'rpc',
			impl,
			wsOrigin: server.wsOrigin,
			room,
			deflate: options.deflate,
			sockets,
			warmup: options.warmup,
			calls: options.calls,
			payloadBytes: options.payloadBytes,
			deadlineMs: 120_000,
		},
		bench.pinning.prefix,
		bench.clientBunArgs,
	);
	try {
		await client.wait('ready', 60_000);
		await waitQuiet(server.pid);
		await bench.window?.open(impl);
		const cpu = cpuNanos(server.pid);
		const ticks = cpuTicksNanos(server.pid);
		client.say('go');
		const result = await client.wait<RpcResult>('result', 110_000);
		const serverNs = cpuNanos(server.pid) - cpu;
		const serverTicksNs = cpuTicksNanos(server.pid) - ticks;
		await bench.window?.close(impl);
		return { ...result, serverNs, serverTicksNs };
	} finally {
		await client.finish();
	}
}

export async function rpcScenario(bench: Bench, mode: 'sequential' | 'concurrent'): Promise<ScenarioResult> {
	const { options } = bench;
	const sockets = mode === 'sequential' ? 1 : options.concurrency;
	const scenario = mode === 'sequential' ? 'sequential RPC' : `concurrent RPC (${sockets} sockets)`;
	const rows = new RowCollector(scenario);
	const raw: unknown[] = [];
	let faults = 0;
	for (let run = 0; run < options.runs; run++) {
		for (const impl of orderFor(run, bench.options.impls)) {
			const r = await oneRun(bench, impl, `${mode}-${impl}-${run}`, sockets);
			faults += r.errors;
			const callsPerSec = (r.calls / r.elapsedMs) * 1000;
			if (mode === 'sequential') {
				rows.add(impl, 'round trip p50', 'µs', r.p50 * 1000);
				rows.add(impl, 'round trip p99', 'µs', r.p99 * 1000);
			}
			rows.add(impl, 'calls/s', '1/s', callsPerSec);
			rows.add(impl, 'server CPU per call', 'µs', r.serverNs / r.calls / 1000);
			rows.add(impl, 'client CPU per call', 'µs', r.clientCpuUs / r.calls);
			raw.push({ scenario, run, impl, ...r, callsPerSec });
			bench.log(
				`${scenario} run ${run + 1}/${options.runs} ${impl}: p50 ${(r.p50 * 1000).toFixed(0)} µs, ${callsPerSec.toFixed(0)} calls/s, server ${(r.serverNs / r.calls / 1000).toFixed(1)} µs/call`,
			);
		}
	}
	return { rows: rows.rows(), raw, faults };
}
