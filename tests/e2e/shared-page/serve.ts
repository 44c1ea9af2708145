/**
 * Builds the browser tests' page (package → dist/, then Vite) and serves it from workerd with the
 * test room behind it, on 127.0.0.1.
 */
import { Response, type Request } from 'miniflare';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import { startRoomWorker, type RoomWorker } from '../../support/workerd.js';

const root = join(import.meta.dir, '..', '..', '..');
const outDir = join(root, 'tests', '.build', 'shared-page');

function run(command: string, args: string[], timeoutMs: number): void {
	const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', timeout: timeoutMs });
	if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
}

/** `dist/` from the sources, then the page from `dist/` with Vite. */
export function buildPage(timeoutMs = 180_000): void {
	run(join(root, 'node_modules', '.bin', 'bun'), [join(root, 'scripts', 'build-package.ts')], timeoutMs);
	run(join(root, 'node_modules', '.bin', 'vite'), ['build', '-c', join(root, 'tests', 'e2e', 'shared-page', 'vite.config.ts')], timeoutMs);
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };

/**
 * The page and the test room on one origin: `/connect/<room>` and `/rpc/<room>` reach the room
 * (so the `RoomWorker` helpers and `Probe.join` work as against tests/worker), the rest is the page.
 */
export function startPage(): Promise<RoomWorker> {
	return startRoomWorker({ serviceBindings: { PAGE: servePage } }, 'tests/e2e/shared-page/app-worker.ts', 'shared-page-worker.js');
}

/** The built page, from tests/.build/shared-page. */
function servePage(request: Request): Response {
	const path = new URL(request.url).pathname;
	const file = normalize(join(outDir, path === '/' ? 'index.html' : path));
	if (!file.startsWith(outDir)) return new Response('not found', { status: 404 });
	try {
		return new Response(readFileSync(file), { headers: { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' } });
	} catch {
		return new Response('not found', { status: 404 });
	}
}
