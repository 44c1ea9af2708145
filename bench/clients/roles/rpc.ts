/**
 * Round trips: each socket awaits one `echo` before it sends the next. With one socket this is the
 * sequential round-trip figure; with several, the sockets run side by side (concurrent calls).
 */
import type { Control } from '../main.js';
import { summarize } from '../../shared/stats.js';
import type { BenchSocket } from '../sockets.js';
import type { RpcConfig } from '../../shared/wire.js';
import { closeAll, echoed, openSockets } from './connect.js';

async function loop(socket: BenchSocket, calls: number, pad: string, latencies: number[] | null): Promise<number> {
	let errors = 0;
	for (let n = 0; n < calls; n++) {
		const start = performance.now();
		const back = await socket.call({ n, pad });
		latencies?.push(performance.now() - start);
		if (!echoed(back, n, pad)) errors++;
	}
	return errors;
}

export async function rpc(config: RpcConfig, ctl: Control): Promise<void> {
	const sockets = await openSockets(config, config.sockets);
	const pad = 'x'.repeat(config.payloadBytes);
	await Promise.all(sockets.map((s) => loop(s, config.warmup, pad, null)));
	ctl.emit({ type: 'ready' });
	await ctl.next('go');

	const latencies: number[] = [];
	const cpu = process.cpuUsage();
	const start = performance.now();
	const errors = (await Promise.all(sockets.map((s) => loop(s, config.calls, pad, latencies)))).reduce((a, b) => a + b, 0);
	const elapsedMs = performance.now() - start;
	const used = process.cpuUsage(cpu);
	ctl.emit({
		type: 'result',
		calls: latencies.length,
		errors,
		elapsedMs,
		...summarize(latencies),
		clientCpuUs: used.user + used.system,
	});
	await ctl.next('exit');
	closeAll(sockets);
}
