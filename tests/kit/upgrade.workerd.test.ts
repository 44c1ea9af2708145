/**
 * `handleUpgrade` in a plain Worker (tests/kit/plain-worker.ts) in workerd, in front of the real
 * test room: real upgrades from Bun's WebSocket, the room's own view of who joined read back
 * through Workers RPC, every refusal as workerd sends it. And the bundle of that Worker does not
 * contain `@sveltejs/kit`: the `/server` entry works without SvelteKit installed.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { build } from 'esbuild';
import type { Miniflare } from 'miniflare';
import { join } from 'node:path';
import type { RefusalBody } from '../../kit/index.js';
import type { Session } from '../../rpc/types.js';
import { startWorkerd } from '../support/workerd.js';

const root = join(import.meta.dir, '..', '..');
const HeaderedWebSocket = WebSocket as unknown as new (url: string, options: { headers: Record<string, string> }) => WebSocket;

let mf: Miniflare;
let origin: string;
let wsOrigin: string;

beforeAll(async () => {
	({ mf, origin, wsOrigin } = await startWorkerd('tests/kit/plain-worker.ts', 'plain-worker.js'));
});

afterAll(async () => {
	await mf?.dispose();
});

/** Opens a socket; resolves once the room's first frame arrived, or rejects on a refusal. */
async function open(path: string, headers: Record<string, string>): Promise<WebSocket> {
	const ws = new HeaderedWebSocket(`${wsOrigin}${path}`, { headers });
	await new Promise<void>((resolve, reject) => {
		ws.addEventListener('message', () => resolve(), { once: true });
		ws.addEventListener('close', (e) => reject(new Error(`closed before the first frame (${e.code})`)), { once: true });
	});
	return ws;
}

async function close(ws: WebSocket): Promise<void> {
	const closed = new Promise<void>((resolve) => ws.addEventListener('close', () => resolve(), { once: true }));
	ws.close(1000);
	await closed;
}

async function sessions(room: string): Promise<Session<Record<string, unknown>>[]> {
	const res = await fetch(`${origin}/sessions/${encodeURIComponent(room)}`);
	expect(res.status).toBe(200);
	return (await res.json()) as Session<Record<string, unknown>>[];
}

async function refused(path: string, headers: Record<string, string>): Promise<{ status: number; body: RefusalBody }> {
	const res = await mf.dispatchFetch(`${origin}${path}`, {
		headers: { upgrade: 'websocket', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13', ...headers },
	});
	expect(res.headers.get('content-type')).toStartWith('application/json');
	return { status: res.status, body: (await res.json()) as RefusalBody };
}

function closedWith(path: string, headers: Record<string, string>): Promise<{ code: number; reason: string }> {
	const ws = new HeaderedWebSocket(`${wsOrigin}${path}`, { headers });
	return new Promise((resolve) => ws.addEventListener('close', (e) => resolve({ code: e.code, reason: e.reason }), { once: true }));
}

describe('handleUpgrade in a plain Worker', () => {
	test('an upgrade with env passed whole joins the room with the meta authorize decided', async () => {
		const ws = await open('/api/websocket?room=plain-1&token=u-ann', { origin });
		try {
			expect((await sessions('plain-1')).map((s) => s.meta)).toEqual([{ user_id: 'u-ann', via: 'plain' }]);
		} finally {
			await close(ws);
		}
	});

	test('the namespace itself works too, on a custom path', async () => {
		const ws = await open('/rooms/socket?room=plain-2', { origin });
		try {
			expect((await sessions('plain-2')).map((s) => s.meta)).toEqual([{ user_id: 'guest', via: 'namespace' }]);
		} finally {
			await close(ws);
		}
	});

	test('allowedOrigins lets another origin in, and only on the options that list it', async () => {
		const ws = await open('/api/websocket?room=plain-5&token=u-admin', { origin: 'https://admin.example' });
		try {
			expect((await sessions('plain-5')).map((s) => s.meta.user_id)).toEqual(['u-admin']);
		} finally {
			await close(ws);
		}
		expect((await refused('/rooms/socket?room=plain-5', { origin: 'https://admin.example' })).status).toBe(403);
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
			const answer = await refused(path, headers);
			expect([path, answer.status, answer.body.code]).toEqual([path, status, code]);
		}
		expect(await sessions('plain-3')).toEqual([]);
	});

	test('authorization refusals reach the socket as 4401 / 4403 (refuse()), the room untouched', async () => {
		expect(await closedWith('/api/websocket?room=plain-4', { origin })).toEqual({ code: 4401, reason: 'unauthorized: Sign in to join this room' });
		expect(await closedWith('/api/websocket?room=plain-4&token=banned', { origin })).toEqual({ code: 4403, reason: 'forbidden: Banned from plain-4' });
		expect(await sessions('plain-4')).toEqual([]);
	});

	test('the Worker bundle contains no @sveltejs/kit: /server runs without SvelteKit', async () => {
		const result = await build({
			entryPoints: [join(root, 'tests/kit/plain-worker.ts')],
			bundle: true,
			write: false,
			metafile: true,
			format: 'esm',
			platform: 'neutral',
			conditions: ['workerd', 'worker', 'import'],
			mainFields: ['module', 'main'],
			external: ['cloudflare:*', 'node:*'],
			logLevel: 'error',
		});
		const inputs = Object.keys(result.metafile.inputs);
		expect(inputs.some((input) => input.startsWith('kit/'))).toBe(true);
		expect(inputs.filter((input) => input.includes('@sveltejs'))).toEqual([]);
	});
});
