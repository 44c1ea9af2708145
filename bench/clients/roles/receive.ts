/**
 * Receivers: many sockets in one process, each checking that every broadcast arrives exactly once
 * and in order, and recording how long it took from the sender's stamp (shared clock).
 */
import type { Control } from '../main.js';
import type { ReceiveConfig } from '../../shared/wire.js';
import { closeAll, openSockets } from './connect.js';
import { Deliveries } from './deliveries.js';

export async function receive(config: ReceiveConfig, ctl: Control): Promise<void> {
	const sockets = await openSockets(config, config.sockets);
	const allIn = Promise.withResolvers<void>();
	const seen = new Deliveries(config.broadcasts, config.sockets * config.broadcasts, allIn.resolve);
	for (const socket of sockets) seen.watch(socket);

	ctl.emit({ type: 'ready' });
	await ctl.next('go');
	const cpu = process.cpuUsage();
	// Bounded: the orchestrator sends `stop` a grace period after the sender finished.
	await Promise.race([allIn.promise, ctl.next('stop')]);
	const used = process.cpuUsage(cpu);
	ctl.emit({
		type: 'result',
		...seen.counts(),
		lastAt: seen.lastAt,
		clientCpuUs: used.user + used.system,
	});
	await ctl.next('exit');
	closeAll(sockets);
}
