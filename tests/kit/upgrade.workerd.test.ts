/**
 * `handleUpgrade` in a plain Worker (tests/kit/plain-worker.ts) in workerd, in front of the real
 * test room: real upgrades from Bun's WebSocket, the room's own view of who joined read back
 * through Workers RPC, every refusal as workerd sends it. And the bundle of that Worker does not
 * contain `@sveltejs/kit`: the `/server` entry works without SvelteKit installed.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Miniflare } from 'miniflare';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RefusalBody } from '../../kit/index.js';
import { startWorkerd } from '../support/workerd.js';
import { socketsTo } from './sockets.js';

const BUNDLE = 'plain-worker.js';

let mf: Miniflare;
let origin: string;
let wsOrigin: string;

beforeAll(async () => {
	({ mf, origin, wsOrigin } = await startWorkerd('tests/kit/plain-worker.ts', BUNDLE));
});

afterAll(async () => {
	await mf?.dispose();
});

const { open, close, sessions, upgradeStatus, closedWith } = socketsTo(() => ({ mf, origin, wsOrigin }));

/** Joins `room` through `path` and returns the metas the room then holds. */
async function joined(path: string, room: string, headers: Record<string, string>): Promise<Record<string, unknown>[]> {
	const { ws } = await open(path, headers);
	try {
		return (await sessions(room)).map((s) => s.meta);
	} finally {
		await close(ws);
	}
}

describe('handleUpgrade in a plain Worker', () => {
	test('an upgrade with env passed whole joins the room with the meta authorize decided', async () => {
		expect(await joined('/api/websocket?room=plain-1&token=u-ann', 'plain-1', { origin })).toEqual([{ user_id: 'u-ann', via: 'plain' }]);
	});

	test('the namespace itself works too, on a custom path', async () => {
		expect(await joined('/rooms/socket?room=plain-2', 'plain-2', { origin })).toEqual([{ user_id: 'guest', via: 'namespace' }]);
	});

	test('allowedOrigins lets another origin in, and only on the options that list it', async () => {
		const admin = { origin: 'https://admin.example' };
		expect(await joined('/api/websocket?room=plain-5&token=u-admin', 'plain-5', admin)).toEqual([{ user_id: 'u-admin', via: 'plain' }]);
		expect((await upgradeStatus('/rooms/socket?room=plain-5', admin)).status).toBe(403);
	});

	test('requests to other paths are left to the Worker (null)', async () => {
		const res = await fetch(`${origin}/somewhere`);
		expect(res.status).toBe(404);
		expect(await res.text()).toBe('routed by the worker');
	});

	test('every refusal, with its JSON body', async () => {
		const plain = await mf.dispatchFetch(`${origin}/api/websocket?room=plain-3&token=u-ann`, { headers: { origin } });
		expect(plain.status).toBe(426);
		expect(((await plain.json()) as RefusalBody).code).toBe('upgrade_required');
		const cases: [string, Record<string, string>, number, string][] = [
			['/api/websocket?room=plain-3&token=u-ann', { origin: 'https://evil.example' }, 403, 'origin_not_allowed'],
			['/api/websocket?room=plain-3&token=u-ann', {}, 403, 'origin_not_allowed'],
			['/api/websocket?token=u-ann', { origin }, 400, 'bad_room'],
			['/unbound/socket?room=plain-3', { origin }, 503, 'server_unavailable'],
		];
		for (const [path, headers, status, code] of cases) {
			const answer = await upgradeStatus(path, headers);
			expect([path, answer.status, answer.body.code]).toEqual([path, status, code]);
		}
		expect(await sessions('plain-3')).toEqual([]);
	});

	test('authorization refusals reach the socket as 4401 / 4403 (refuse()), the room untouched', async () => {
		expect(await closedWith('/api/websocket?room=plain-4', { origin })).toEqual({ code: 4401, reason: 'unauthorized: Sign in to join this room' });
		expect(await closedWith('/api/websocket?room=plain-4&token=banned', { origin })).toEqual({ code: 4403, reason: 'forbidden: Banned from plain-4' });
		expect(await sessions('plain-4')).toEqual([]);
	});

	test('a refused socket that never answers the notice (not our client) is closed all the same', async () => {
		// The handle waits for the client's word before closing (see `socketRefusal`), but not forever.
		expect(await closedWith('/api/websocket?room=plain-5', { origin }, { silent: true })).toEqual({
			code: 4401,
			reason: 'unauthorized: Sign in to join this room',
		});
		expect(await sessions('plain-5')).toEqual([]);
	});

	test('the Worker bundle contains no @sveltejs/kit: /server runs without SvelteKit', () => {
		// esbuild heads each bundled module with a `// <path>` comment.
		const modules = readFileSync(join(import.meta.dir, '..', '.build', BUNDLE), 'utf8').match(/^\/\/ \S+$/gm) ?? [];
		expect(modules).toContain('// kit/upgrade.ts');
		expect(modules.filter((line) => line.includes('@sveltejs'))).toEqual([]);
	});
});
