/**
 * Receivers: many sockets in one process, each checking that every broadcast arrives exactly once
 * and in order, and recording how long it took from the sender's stamp (shared clock).
 */
import type { Control } from '../client.js';
import { now } from '../clock.js';
import type { ReceiveConfig, Shout } from '../wire.js';
import { closeAll, openSockets } from './connect.js';

export async function receive(config: ReceiveConfig, ctl: Control): Promise<void> {
	const sockets = await openSockets(config, config.sockets);
	const expected = config.sockets * config.broadcasts;
	const latencies: number[] = [];
	let deliveries = 0;
	let unique = 0;
	let outOfOrder = 0;
	let duplicates = 0;
	let lastAt = 0;
	let allIn: (() => void) | undefined;
	const done = new Promise<void>((resolve) => (allIn = resolve));

	for (const socket of sockets) {
		const seen = new Uint8Array(config.broadcasts);
		let next = 0;
		socket.onShout = (value) => {
			const shout = value as Shout;
			if (shout.warm) return;
			const at = now();
			deliveries++;
			lastAt = at;
			latencies.push(Math.round((at - shout.t) * 1000) / 1000);
			if (seen[shout.seq]) {
				duplicates++;
				return;
			}
			// Behind one already seen: it overtook nothing, something overtook it. (A gap is
			// counted once, as missing, when the run ends.)
			if (shout.seq < next) outOfOrder++;
			next = Math.max(next, shout.seq + 1);
			seen[shout.seq] = 1;
			if (++unique === expected) allIn?.();
		};
	}

	ctl.emit({ type: 'ready' });
	await ctl.next('go');
	const cpu = process.cpuUsage();
	// Bounded: the orchestrator sends `stop` a grace period after the sender finished.
	await Promise.race([done, ctl.next('stop')]);
	const used = process.cpuUsage(cpu);
	ctl.emit({
		type: 'result',
		expected,
		deliveries,
		missing: expected - unique,
		outOfOrder,
		duplicates,
		latencies,
		lastAt,
		clientCpuUs: used.user + used.system,
	});
	await ctl.next('exit');
	closeAll(sockets);
}
