/**
 * CPU time of a process's threads, from Linux's `/proc/<pid>/task/<tid>/schedstat` (ns resolution;
 * `/proc/<pid>/stat` only counts 10 ms ticks). Read by the orchestrator for workerd, and by a client
 * process for itself (`'self'`), to tell its JIT compiler threads from the rest.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** JavaScriptCore's compiler threads (Baseline, DFG and FTL compile there), as Bun names them. */
export const JIT_THREAD = 'JITWorker';

/**
 * Nanoseconds the threads of `pid` have run on a CPU, summed (workerd keeps its threads for its
 * lifetime); only the threads called `named`, when given. Threads that exit between two readings
 * drop out.
 */
export function cpuNanos(pid: number | 'self', named?: string): number {
	let total = 0;
	for (const tid of readdirSync(`/proc/${pid}/task`)) {
		try {
			if (named !== undefined && readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trimEnd() !== named) continue;
			total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
		} catch {
			// The thread exited while we read.
		}
	}
	return total;
}
