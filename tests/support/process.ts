/**
 * Child processes the tests start as servers (`wrangler dev`, `vite dev`): waiting for the line that
 * says they are ready, and ending them with everything they started.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Resolves with the first capture group of `pattern` once it matches the child's output (stdout and
 * stderr together, colours stripped); rejects if the child exits first or `timeoutMs` passes, with
 * the output so far. The child must have been spawned with both streams piped.
 */
export function readyLine(child: ChildProcess, name: string, pattern: RegExp, timeoutMs: number): Promise<string> {
	let output = '';
	return new Promise<string>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`${name} was not ready within ${timeoutMs} ms:\n${output}`)), timeoutMs);
		const onData = (chunk: Buffer) => {
			output += chunk.toString().replace(/\x1b\[[0-9;]*m/g, '');
			const ready = pattern.exec(output);
			if (ready) {
				clearTimeout(timer);
				resolve(ready[1]!);
			}
		};
		child.stdout!.on('data', onData);
		child.stderr!.on('data', onData);
		child.once('exit', (code) => {
			clearTimeout(timer);
			reject(new Error(`${name} exited (${code}) before it was ready:\n${output}`));
		});
	});
}

/**
 * Ends a child spawned with `detached: true` and everything it started (its process group): SIGTERM,
 * then SIGKILL if it has not exited within a few seconds.
 */
export async function stopProcessGroup(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
	process.kill(-child.pid, 'SIGTERM');
	const timer = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, 'SIGKILL'), 5_000);
	await exited;
	clearTimeout(timer);
}

/**
 * `wrangler dev` as the tests run it: the `wrangler` binary at `bin`, started in `cwd` (its
 * wrangler config there, `args` added), on 127.0.0.1 with free ports and its state in `persistTo`.
 * Resolves once it is ready, with its origin; stopped again if it never gets ready.
 */
export async function wranglerDev(bin: string, cwd: string, persistTo: string, args: string[] = []): Promise<{ child: ChildProcess; origin: string }> {
	const child = spawn(
		bin,
		['dev', ...args, '--ip', '127.0.0.1', '--port', '0', '--inspector-port', '0', '--persist-to', persistTo, '--show-interactive-dev-session=false'],
		{ cwd, env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
	);
	try {
		return { child, origin: await readyLine(child, 'wrangler dev', /Ready on (http:\/\/127\.0\.0\.1:\d+)/, 90_000) };
	} catch (error) {
		await stopProcessGroup(child);
		throw error;
	}
}
