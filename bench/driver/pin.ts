/**
 * Keeps the room and its clients off each other's cores when `taskset` exists: workerd on core 0,
 * everything else (clients, this orchestrator, Miniflare's host side) on the remaining cores. On a
 * 2-core machine that is workerd on core 0 and clients on core 1, so server CPU time is not stolen
 * by the load generator and latency does not include waiting for a core the clients hold.
 */
import { availableParallelism } from 'node:os';
import { spawnSync } from 'node:child_process';

export interface Pinning {
	applied: boolean;
	note: string;
	/** Prefix for client commands (`taskset -c 1 …`), empty when not pinned. */
	prefix: string[];
}

function taskset(...args: string[]): boolean {
	const result = spawnSync('taskset', args, { stdio: 'ignore', timeout: 5_000 });
	return result.status === 0;
}

export function pin(workerdPid: number): Pinning {
	const cores = availableParallelism();
	if (cores < 2) return { applied: false, note: `not pinned: ${cores} core`, prefix: [] };
	if (spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status !== 0) {
		return { applied: false, note: 'not pinned: no taskset', prefix: [] };
	}
	const clientCores = cores === 2 ? '1' : `1-${cores - 1}`;
	// -a: every thread of the process, not just its main thread.
	const ok = taskset('-a', '-p', '-c', '0', String(workerdPid)) && taskset('-a', '-p', '-c', clientCores, String(process.pid));
	if (!ok) return { applied: false, note: 'not pinned: taskset failed', prefix: [] };
	return { applied: true, note: `workerd on core 0, clients on core ${clientCores} (of ${cores})`, prefix: ['taskset', '-c', clientCores] };
}
