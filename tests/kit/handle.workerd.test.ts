/**
 * The handle in front of a real room, in workerd: real upgrades from Bun's WebSocket (with the
 * `Origin`, cookie and forged headers a browser or an attacker would send), the test room's Durable
 * Object behind it, and the room's own view of who joined, read back through Workers RPC.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Miniflare } from 'miniflare';
import type { AuthLocalsLike, RefusalBody } from '../../kit/index.js';
import { ackFrame } from '../../rpc/frame.js';
import { ClosedByRoom, RoomClient } from '../../client/headless.js';
import { CloseCode, HANDOFF_HEADER } from '../../rpc/protocol.js';
import { WIRE_PARAM, WIRE_VERSION } from '../../rpc/wire-version.js';
import { startWorkerd } from '../support/workerd.js';
import { HeaderedWebSocket, refusalNotice, socketsTo, statingWire } from './sockets.js';

let mf: Miniflare;
let origin: string;
let wsOrigin: string;

beforeAll(async () => {
	({ mf, origin, wsOrigin } = await startWorkerd('tests/kit/worker.ts', 'kit-worker.js'));
});

afterAll(async () => {
	await mf?.dispose();
});

const { open, close, sessions, upgradeStatus, closedWith } = socketsTo(() => ({ mf, origin, wsOrigin }));

function signedIn(id: string, name: string, orgs: Record<string, number>): AuthLocalsLike {
	const [current] = Object.keys(orgs);
	// As `@delightstack/auth` fills it: login and session identifiers that must not reach presence.
	const user = { id, name, user_auth_id: `auth-${id}`, user_session_id: `sess-${id}` };
	return {
		session: { org: Object.fromEntries(Object.entries(orgs).map(([org, p]) => [org, { p }])) },
		user,
		org_id: current ?? null,
		org: current ? { id: current, permissions: orgs[current]! } : null,
	};
}

function authCookie(locals: AuthLocalsLike): string {
	return `test_auth=${encodeURIComponent(JSON.stringify(locals))}`;
}

/**
 * Opens a socket that the handle should refuse; resolves when it ends without a single frame from a
 * room: refused at the handshake, or (authorization refusals) closed with 4401 / 4403 after the
 * handle's refusal notice, which it answers as a client does.
 */
function refusedSocket(path: string, headers: Record<string, string>): Promise<'refused'> {
	const ws = new HeaderedWebSocket(`${wsOrigin}${statingWire(path)}`, { headers });
	let opened = false;
	return new Promise((resolve, reject) => {
		ws.addEventListener('open', () => (opened = true), { once: true });
		ws.addEventListener('message', (e) => {
			try {
				ws.send(ackFrame(refusalNotice(String(e.data)).nonce));
			} catch {
				reject(new Error('a room spoke to a refused socket'));
			}
		});
		ws.addEventListener(
			'close',
			(e) => (!opened || e.code === 4401 || e.code === 4403 ? resolve('refused') : reject(new Error(`accepted, then closed with ${e.code}`))),
			{ once: true },
		);
	});
}

async function connects(room: string): Promise<number> {
	const res = await fetch(`${origin}/stats/${encodeURIComponent(room)}`);
	return ((await res.json()) as { counters: Record<string, number> }).counters.connect ?? 0;
}

describe('through the handle into a real room', () => {
	test('meta comes from the handle: a forged handoff header from the client is ignored', async () => {
		const forged = JSON.stringify({ room: 'org-a', meta: { user_id: 'u-mallory', user_name: 'Mallory', permission: 0xffff } });
		const { ws, first } = await open('/api/websocket?room=org-a', {
			origin,
			cookie: authCookie(signedIn('u-alice', 'Alice', { 'org-a': 3 })),
			[HANDOFF_HEADER]: forged,
		});
		try {
			// The room's first frame is the session list: it already names Alice, and nobody else.
			expect(first).toContain('u-alice');
			expect(first).not.toContain('mallory');
			const present = await sessions('org-a');
			expect(present).toHaveLength(1);
			expect(present[0]!.room).toBe('org-a');
			expect(present[0]!.meta).toEqual({
				user_id: 'u-alice',
				user_name: 'Alice',
				permission: 3,
			});
		} finally {
			await close(ws);
		}
	});

	test('a forged header cannot move a socket into another room either', async () => {
		const forged = JSON.stringify({ room: 'org-secret', meta: { user_id: 'u-alice' } });
		const { ws } = await open('/api/websocket?room=org-a2', {
			origin,
			cookie: authCookie(signedIn('u-alice', 'Alice', { 'org-a2': 1 })),
			[HANDOFF_HEADER]: forged,
		});
		try {
			expect((await sessions('org-a2')).map((s) => s.meta.user_id)).toEqual(['u-alice']);
			expect(await sessions('org-secret')).toEqual([]);
		} finally {
			await close(ws);
		}
	});

	test('names in any script survive the trip through the header', async () => {
		const name = 'Zoë 李雷 🚀';
		const { ws } = await open(`/api/websocket?room=${encodeURIComponent('équipe-7')}`, {
			origin,
			cookie: authCookie(signedIn('u-zoe', name, { 'équipe-7': 1 })),
		});
		try {
			const [session] = await sessions('équipe-7');
			expect(session!.room).toBe('équipe-7');
			expect(session!.meta.user_name).toBe(name);
		} finally {
			await close(ws);
		}
	});

	test('a custom async authorize decides the meta', async () => {
		const { ws } = await open('/custom/websocket?room=doc-1&token=u-token', { origin });
		try {
			expect((await sessions('doc-1')).map((s) => s.meta)).toEqual([{ user_id: 'u-token', via: 'custom' }]);
		} finally {
			await close(ws);
		}
	});

	test('refused upgrades never reach the room', async () => {
		const alice = authCookie(signedIn('u-alice', 'Alice', { 'org-r': 3 }));
		const before = await connects('org-r');
		const attempts: [string, Record<string, string>][] = [
			['/api/websocket?room=org-r', { origin: 'https://evil.example', cookie: alice }],
			['/api/websocket?room=org-r', { cookie: alice }],
			['/api/websocket?room=org-r', { origin }],
			['/api/websocket?room=org-r', { origin, cookie: authCookie(signedIn('u-eve', 'Eve', { 'org-e': 3 })) }],
			['/custom/websocket?room=org-r&token=banned', { origin }],
		];
		for (const [path, headers] of attempts) {
			expect(await refusedSocket(path, { ...headers, [HANDOFF_HEADER]: JSON.stringify({ room: 'org-r', meta: { user_id: 'x' } }) })).toBe('refused');
		}
		expect(await connects('org-r')).toBe(before);
		expect(await sessions('org-r')).toEqual([]);
	});
});

describe('refusals as workerd sends them', () => {
	test('every status with its JSON body', async () => {
		const alice = authCookie(signedIn('u-alice', 'Alice', { 'org-a': 3 }));
		const plain = await mf.dispatchFetch(`${origin}/api/websocket?room=org-a`, { headers: { origin, cookie: alice } });
		expect(plain.status).toBe(426);
		// (The handle also sets `Upgrade: websocket`, as RFC 9110 asks of a 426; the runtime drops it as hop-by-hop.)
		expect(((await plain.json()) as RefusalBody).code).toBe('upgrade_required');

		const cases: [string, Record<string, string>, number, string][] = [
			['/api/websocket?room=org-a', { origin: 'https://evil.example', cookie: alice }, 403, 'origin_not_allowed'],
			['/api/websocket?room=org-a', { cookie: alice }, 403, 'origin_not_allowed'],
			['/api/websocket', { origin, cookie: alice }, 400, 'bad_room'],
			[`/api/websocket?room=${'r'.repeat(300)}`, { origin, cookie: alice }, 400, 'bad_room'],
		];
		for (const [path, headers, status, code] of cases) {
			const refused = await upgradeStatus(path, headers);
			expect([path, refused.status, refused.body.code]).toEqual([path, status, code]);
			expect(refused.body.status).toBe(status);
		}
	});

	test('authorization refusals reach a socket as terminal close codes 4401 / 4403, the room untouched', async () => {
		const alice = authCookie(signedIn('u-alice', 'Alice', { 'org-a': 3 }));
		const before = await connects('org-b');
		const cases: [string, Record<string, string>, number, string][] = [
			['/api/websocket?room=org-a', { origin }, 4401, 'unauthorized: Sign in to join this room'],
			['/api/websocket?room=org-b', { origin, cookie: alice }, 4403, 'forbidden: '],
			['/custom/websocket?room=doc-1', { origin }, 4401, 'unauthorized: Sign in to join this room'],
			['/custom/websocket?room=doc-1&token=banned', { origin }, 4403, 'forbidden: Banned from doc-1'],
		];
		for (const [path, headers, code, reason] of cases) {
			const closed = await closedWith(path, headers);
			expect([path, closed.code]).toEqual([path, code]);
			expect(closed.reason).toStartWith(reason);
		}
		expect(await connects('org-b')).toBe(before);
	});

	test('a page of another wire version is refused with 4426 before authorize, the room untouched', async () => {
		const before = await connects('doc-wire');
		const other = WIRE_VERSION + 1;
		const cases: [string, string][] = [
			[`${WIRE_PARAM}=${other}`, `${other}`],
			[`${WIRE_PARAM}=${WIRE_VERSION}&${WIRE_PARAM}=${WIRE_VERSION}`, `${WIRE_VERSION},${WIRE_VERSION}`],
		];
		for (const [query, stated] of cases) {
			// A token `authorize` would let in: the version is checked first.
			expect(await closedWith(`/custom/websocket?room=doc-wire&token=u-token&${query}`, { origin })).toEqual({
				code: CloseCode.VersionMismatch,
				reason: `version_mismatch: This page speaks wire version ${stated}, the server ${WIRE_VERSION}`,
			});
		}
		// No parameter: a page from before clients stated it, which speaks version 1.
		expect(await closedWith('/custom/websocket?room=doc-wire&token=u-token', { origin }, { stating: false })).toEqual({
			code: CloseCode.VersionMismatch,
			reason: `version_mismatch: This page speaks wire version 1, the server ${WIRE_VERSION}`,
		});
		expect(await connects('doc-wire')).toBe(before);
		// The server's own version gets in.
		const { ws } = await open(`/custom/websocket?room=doc-wire&token=u-token&${WIRE_PARAM}=${WIRE_VERSION}`, { origin });
		await close(ws);
		expect(await connects('doc-wire')).toBe(before + 1);
	});

	test("the client states its wire version; a page of another deploy stops with 'version_mismatch' and does not retry", async () => {
		const opened: string[] = [];
		/** A browser's socket (with its page's `Origin`), from a page of the given wire version. */
		const pageOf = (version: number) =>
			class extends HeaderedWebSocket {
				constructor(url: string) {
					const parsed = new URL(url);
					opened.push(parsed.searchParams.get(WIRE_PARAM) ?? 'none');
					parsed.searchParams.set(WIRE_PARAM, String(version));
					super(parsed.toString(), { headers: { origin } });
				}
			} as unknown as typeof WebSocket;
		const url = `${wsOrigin}/custom/websocket?token=u-token`;

		const current = new RoomClient({ url, WebSocket: pageOf(WIRE_VERSION) });
		await current.connect('doc-wire-client');
		expect(current.status).toBe('connected');
		current.destroy();
		expect(opened).toEqual([String(WIRE_VERSION)]);

		const before = await connects('doc-wire-client');
		const outdated = new RoomClient({ url, WebSocket: pageOf(WIRE_VERSION + 1) });
		const refused = await outdated.connect('doc-wire-client').then(
			() => undefined,
			(error: unknown) => error,
		);
		expect(refused).toBeInstanceOf(ClosedByRoom);
		expect(refused).toMatchObject({ code: 'version_mismatch', status: 426, closeCode: CloseCode.VersionMismatch });
		expect(outdated.error).toBe(refused as ClosedByRoom);
		expect(outdated.status).toBe('disconnected');
		expect(outdated.nextRetry).toBeNull();
		outdated.destroy();
		expect(opened).toHaveLength(2);
		expect(await connects('doc-wire-client')).toBe(before);
	});

	test('other requests reach the app', async () => {
		const res = await fetch(`${origin}/somewhere`);
		expect(res.status).toBe(404);
		expect(await res.text()).toBe('resolved by the app');
	});
});
