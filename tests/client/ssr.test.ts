/**
 * Server-side rendering imports and constructs the client: that must touch no browser global and
 * open nothing. Each case runs in its own Bun process (tests/support/ssr-probe.ts), so the rune
 * modules can be compiled the way SvelteKit's SSR build compiles them and the globals can be
 * watched without disturbing other tests.
 */
import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';

const root = join(import.meta.dir, '..', '..');

async function probe(generate: 'server' | 'client') {
	const proc = Bun.spawn([process.execPath, 'tests/support/ssr-probe.ts', generate], { cwd: root, stdout: 'pipe', stderr: 'pipe' });
	const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
	if (code !== 0) throw new Error(`ssr-probe exited with ${code}: ${err}`);
	return JSON.parse(out.trim().split('\n').at(-1)!);
}

describe('on the server', () => {
	for (const generate of ['server', 'client'] as const) {
		test(`compiled for ${generate}: import, construct, read, listen, connect, call, destroy without browser globals`, async () => {
			const result = await probe(generate);
			expect(result.hasWindow).toBe(false);
			// Svelte's own runtime reads `globalThis.document?.contentType` when it loads; that one
			// is Svelte's, guarded, and not ours. Nothing else is read by anyone.
			const ours = (result.touched as string[]).filter((t) => !t.includes('/node_modules/svelte/'));
			expect(ours).toEqual([]);
			expect(result.state).toEqual({
				status: 'disconnected',
				connected: false,
				room: null,
				sessions: [],
				users: [],
				isLive: false,
				error: null,
				nextRetry: null,
			});
			// connect() resolves without connecting; calls fail fast instead of hanging.
			expect(result.afterConnect).toEqual({ status: 'disconnected', room: null });
			// Not in a room (connect() did nothing here): a RoomError of code `not_connected`.
			expect(result.send).toBe('RoomError');
			expect(result.rpc).toBe('RoomError');
		});
	}
});
