/**
 * Other sessions' builds and tests share this small machine and compete for its cores. The harness
 * cannot stop them; it waits for a quiet moment before a full run, and says how busy the machine
 * was during each scenario so a reader can tell a clean run from a noisy one.
 */
import { availableParallelism } from 'node:os';
import { foreignCpuNanos } from './proc.js';

/** Starts counting; the returned function gives the share of the whole machine (all cores) other processes used since. */
export function foreignShare(): () => number {
	const [before, started] = [foreignCpuNanos(process.pid), performance.now()];
	// Approximate: a process reaped by nobody (its parent ignores SIGCHLD) takes its time with it,
	// which can even make the difference slightly negative.
	return () => Math.max(0, foreignCpuNanos(process.pid) - before) / ((performance.now() - started) * 1e6 * availableParallelism());
}

/** Waits (at most `maxMs`) for a 3 s window in which other processes use under 15 % of the machine. */
export async function waitForQuietMachine(log: (line: string) => void, maxMs = 120_000): Promise<void> {
	for (let waited = 0; waited < maxMs; waited += 3_000) {
		const share = foreignShare();
		await Bun.sleep(3_000);
		const used = share();
		if (used < 0.15) return;
		log(`other processes use ${(used * 100).toFixed(0)} % of the machine; waiting for a quieter moment`);
	}
	log('the machine stayed busy; measuring anyway');
}
