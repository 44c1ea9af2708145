/**
 * Waits for the room to finish what it was doing (e.g. presence announcements after a connect
 * storm) before a measurement starts, so its CPU window holds only the measured work.
 */
import { cpuNanos } from './proc.js';

/** Until workerd used under `busyFraction` of a core over two consecutive `stepMs`; at most `maxMs`. */
export async function waitQuiet(pid: number, { stepMs = 100, busyFraction = 0.03, maxMs = 10_000 } = {}): Promise<boolean> {
	let calm = 0;
	let last = cpuNanos(pid);
	for (let waited = 0; waited < maxMs; waited += stepMs) {
		await Bun.sleep(stepMs);
		const used = cpuNanos(pid);
		calm = used - last < busyFraction * stepMs * 1e6 ? calm + 1 : 0;
		last = used;
		if (calm >= 2) return true;
	}
	return false;
}
