/**
 * Builds the browser tests' page (package → dist/, then Vite) and serves it from workerd with the
 * test room behind it, on 127.0.0.1.
 */
import { Miniflare, Response, type Request } from 'miniflare';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import { bundleWorker } from '../../support/workerd.js';

const root = join(import.meta.dir, '..', '..', '..');
const outDir = join(root, 'tests', '.build', 'shared-page');

export interface PageServer {
	/** `http://127.0.0.1:<port>` */
	origin: string;
	/** The room's sessions, from the room itself. */
	sessions(room: string): Promise<Array<{ ws_session_id: string; meta: { user_id: string } }>>;
	/** ws:// URL that joins `room` as `user_id` directly (an observer outside the browser). */
	connectUrl(room: string, user_id: string): string;
	stop(): Promise<void>;
}

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

export async function startPage(): Promise<PageServer> {
	const scriptPath = await bundleWorker('tests/e2e/shared-page/app-worker.ts', 'shared-page-worker.js');
	const mf = new Miniflare({
		modules: true,
		scriptPath,
		compatibilityDate: '2026-04-20',
		durableObjects: { ROOM: { className: 'TestRoom', useSQLite: true } },
		serviceBindings: {
			PAGE: (request: Request) => {
				const path = new URL(request.url).pathname;
				const file = normalize(join(outDir, path === '/' ? 'index.html' : path));
				if (!file.startsWith(outDir)) return new Response('not found', { status: 404 });
				try {
					return new Response(readFileSync(file), { headers: { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' } });
				} catch {
					return new Response('not found', { status: 404 });
				}
			},
		},
		host: '127.0.0.1',
		port: 0,
	});
	const origin = (await mf.ready).origin;
	return {
		origin,
		async sessions(room) {
			const res = await fetch(`${origin}/rpc/${encodeURIComponent(room)}`, { method: 'POST', body: JSON.stringify({ method: 'getSessions', args: [] }) });
			if (!res.ok) throw new Error(`getSessions failed: ${res.status}`);
			return ((await res.json()) as { result: Array<{ ws_session_id: string; meta: { user_id: string } }> }).result;
		},
		connectUrl: (room, user_id) => `${origin.replace(/^http/, 'ws')}/connect/${encodeURIComponent(room)}?meta=${encodeURIComponent(JSON.stringify({ user_id }))}`,
		stop: () => mf.dispose(),
	};
}
