/**
 * What Linux says about a process: its parent, its CPU time, its memory. Server CPU is read from
 * the kernel's accounting of the workerd process itself, which is steadier on a noisy machine than
 * any latency figure.
 */
import { readFileSync, readdirSync } from 'node:fs';

function readStat(pid: number): string[] | undefined {
	try {
		const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
		// The command name (field 2) is in parentheses and may hold spaces: split after it.
		const close = raw.lastIndexOf(')');
		return [raw.slice(0, raw.indexOf(' ')), raw.slice(raw.indexOf('(') + 1, close), ...raw.slice(close + 2).split(' ')];
	} catch {
		return undefined;
	}
}

function parentOf(pid: number): number | undefined {
	const stat = readStat(pid);
	return stat ? Number(stat[3]) : undefined;
}

function descendsFrom(pid: number, ancestor: number): boolean {
	// Bounded: process trees are shallow, and a cycle must never hang the harness.
	for (let i = 0, p: number | undefined = pid; i < 64 && p !== undefined && p > 1; i++) {
		p = parentOf(p);
		if (p === ancestor) return true;
	}
	return false;
}

/** The `workerd` process started (directly or not) by `ancestor`, other than those in `except`. */
export function findWorkerd(ancestor: number, except: ReadonlySet<number> = new Set()): number | undefined {
	for (const entry of readdirSync('/proc')) {
		const pid = Number(entry);
		if (!Number.isInteger(pid) || except.has(pid)) continue;
		if (readStat(pid)?.[1] !== 'workerd') continue;
		if (descendsFrom(pid, ancestor)) return pid;
	}
	return undefined;
}

export { cpuNanos } from '../shared/threads.js';

/** utime + stime from `/proc/<pid>/stat`, in nanoseconds (10 ms resolution): a cross-check. */
export function cpuTicksNanos(pid: number): number {
	const stat = readStat(pid);
	if (!stat) return NaN;
	// Fields 14 and 15 (1-based) are utime and stime in clock ticks (100 per second on Linux).
	return (Number(stat[13]) + Number(stat[14])) * 1e7;
}

/**
 * Resident memory in bytes (`total`, VmRSS), and its parts as the kernel counts them: `anon` is
 * memory the process allocated (heaps, buffers, sockets' state); `file` is pages of mapped files
 * (the binary's code as it is first run, a Durable Object's SQLite files), which do not grow with
 * the sockets a room holds and which the kernel may drop and read again.
 */
export function rss(pid: number): { total: number; anon: number; file: number } {
	const status = readFileSync(`/proc/${pid}/status`, 'utf8');
	const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) * 1024;
	return { total: kib('VmRSS'), anon: kib('RssAnon'), file: kib('RssFile') + kib('RssShmem') };
}

/**
 * CPU time of every process on the machine that is not `self` or one of its descendants, in ns
 * (10 ms resolution). Includes time of reaped children (cutime/cstime), so processes that start
 * and end between two readings still count once they are waited for. A noise indicator: other
 * work on this small machine competes with the benchmark for its cores.
 */
export function foreignCpuNanos(self: number): number {
	let ticks = 0;
	for (const entry of readdirSync('/proc')) {
		const pid = Number(entry);
		if (!Number.isInteger(pid) || pid === self || descendsFrom(pid, self)) continue;
		const stat = readStat(pid);
		// utime, stime, cutime, cstime: fields 14–17 (1-based).
		if (stat) ticks += Number(stat[13]) + Number(stat[14]) + Number(stat[15]) + Number(stat[16]);
	}
	return ticks * 1e7;
}
