/**
 * Open-file limits. Every socket is a file descriptor on both ends: workerd holds one per client
 * (5000 in the soak), each client process one per socket it opens. Linux's soft limit may be below
 * that; a process may raise its soft limit up to the hard limit, and `prlimit` does it for another
 * process we started (as `ulimit -n` would in a shell that spawned it).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface FileLimit {
	soft: number;
	hard: number;
}

export function openFileLimit(pid: number): FileLimit {
	const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
		.split('\n')
		.find((l) => l.startsWith('Max open files'));
	const [soft, hard] = (line?.slice('Max open files'.length).trim().split(/\s+/) ?? []).map((v) => (v === 'unlimited' ? Infinity : Number(v)));
	return { soft: soft ?? NaN, hard: hard ?? NaN };
}

/**
 * Makes sure process `pid` (one we started) may open `needed` files: raises its soft limit (up to
 * its hard limit) with `prlimit` when it is lower. Returns a note for the report, or throws when
 * the limit cannot be raised far enough (then run with a higher `ulimit -n`, or fewer sockets).
 */
export function ensureFileLimit(pid: number, needed: number, what: string): string {
	const before = openFileLimit(pid);
	if (before.soft >= needed) return `${what}: open-file limit ${before.soft} ≥ ${needed} needed`;
	const target = Math.min(before.hard, Math.max(needed, 65_535));
	const result = spawnSync('prlimit', ['--pid', String(pid), `--nofile=${target}:${before.hard === Infinity ? 'unlimited' : before.hard}`], {
		stdio: 'ignore',
		timeout: 5_000,
	});
	const after = openFileLimit(pid);
	if (after.soft < needed) {
		throw new Error(
			`${what} may open ${after.soft} files but needs ${needed} (hard limit ${before.hard}${result.status === 0 ? '' : ', prlimit failed'}): raise \`ulimit -n\` before running, or use fewer sockets`,
		);
	}
	return `${what}: open-file limit raised from ${before.soft} to ${after.soft} (${needed} needed)`;
}
