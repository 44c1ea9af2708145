/** What the numbers were measured on, and which library code: they mean nothing without it. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dir, '..', '..');

function versionOf(pkg: string): string {
	try {
		return (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
	} catch {
		return 'unknown';
	}
}

export function describeMachine() {
	const workerd = spawnSync(join(root, 'node_modules', '.bin', 'workerd'), ['--version'], { encoding: 'utf8', timeout: 5_000 });
	return {
		cpu: cpus()[0]?.model ?? 'unknown',
		cores: availableParallelism(),
		memoryGB: Math.round(totalmem() / 2 ** 30),
		kernel: release(),
		bun: Bun.version,
		workerd: workerd.stdout?.trim() || 'unknown',
		miniflare: versionOf('miniflare'),
		capnweb: versionOf('capnweb'),
		partyserver: versionOf('partyserver'),
	};
}

/** The commit, and the library files that differ from it (the library is built from the working tree). */
export function describeLibrary() {
	const git = (...args: string[]) => spawnSync('git', args, { cwd: root, encoding: 'utf8', timeout: 5_000 }).stdout?.trim() ?? '';
	return {
		commit: git('rev-parse', 'HEAD') || 'unknown',
		uncommitted: git('status', '--porcelain', '--', 'do', 'rpc', 'client', 'kit').split('\n').filter(Boolean),
	};
}
