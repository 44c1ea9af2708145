import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { CloseCode, HANDOFF_HEADER } from '../../rpc/protocol.js';
import { Probe, joinInTurn } from '../support/probe.js';
import { startRoomWorker, type RoomWorker } from '../support/workerd.js';

let worker: RoomWorker;
beforeAll(async () => (worker = await startRoomWorker()));
afterAll(() => worker.dispose());

let rooms = 0;
const freshRoom = () => `presence-${++rooms}-${Date.now()}`;

describe('presence', () => {
	test('three clients: list first, then joins and leaves with counts, in order', async () => {
		const room = freshRoom();
		const a = await Probe.join(worker, room, { user_id: 'ann' });
		expect(a.events[0]).toEqual({ name: 'session:list', data: { sessions: [{ ws_session_id: a.id, meta: { user_id: 'ann' } }] } });

		const b = await Probe.join(worker, room, { user_id: 'bob' });
		expect(b.events[0]!.data.sessions.map((s: any) => s.meta.user_id)).toEqual(['ann', 'bob']);
		expect(await a.next('session:connected')).toEqual({ ws_session_id: b.id, meta: { user_id: 'bob' }, num_connections: 2 });

		const c = await Probe.join(worker, room, { user_id: 'cid' });
		expect(c.events[0]!.data.sessions.map((s: any) => s.ws_session_id)).toEqual([a.id, b.id, c.id]);
		for (const p of [a, b]) expect((await p.next('session:connected')).num_connections).toBe(3);

		await b.close();
		for (const p of [a, c]) {
			expect(await p.next('session:disconnected')).toEqual({ ws_session_id: b.id, meta: { user_id: 'bob' }, num_connections: 2 });
		}
		// The joiner never hears about itself, and nobody hears about anyone twice.
		expect(c.names().filter((n) => n.startsWith('session:'))).toEqual(['session:list', 'session:disconnected']);
		expect(a.names()).toEqual(['session:list', 'session:connected', 'session:connected', 'session:disconnected']);
		expect((await worker.rpc<any[]>(room, 'getSessions')).map((s) => s.meta.user_id)).toEqual(['ann', 'cid']);
		await Promise.all([a.close(), c.close()]);
	});

	test('session ids come from the room, and meta only from the handoff', async () => {
		const room = freshRoom();
		const a = await Probe.join(worker, room, { user_id: 'ann' });
		// A forged handoff header from the browser is replaced by the handle's.
		const forged = JSON.stringify({ room, meta: { user_id: 'admin' } });
		const url = `${worker.connectUrl(room, { user_id: 'eve' })}`;
		const eve = new WebSocket(url, { headers: { [HANDOFF_HEADER]: forged } } as any);
		await new Promise((r) => eve.addEventListener('open', r, { once: true }));
		const joined = await a.next('session:connected');
		expect(joined.meta).toEqual({ user_id: 'eve' });
		expect(joined.ws_session_id).toMatch(/^[0-9a-f-]{36}$/);
		eve.close();
		await a.next('session:disconnected');
		await a.close();
	});
});

describe('presence under a connect storm', () => {
	test('joins are coalesced into few frames; every socket ends with the same roster, each member once', async () => {
		const room = freshRoom();
		const observer = await Probe.join(worker, room, { user_id: 'observer' });
		let presenceFrames = 0;
		observer.conn.socket.addEventListener('message', (e) => String(e.data).includes('"session:connected"') && presenceFrames++);
		const crowd = await Promise.all(Array.from({ length: 20 }, (_, i) => Probe.join(worker, room, { user_id: `u${i}` })));
		await Promise.all(crowd.map((p) => p.rpc.add(0, 0))); // any other event flushes pending presence first
		await worker.rpc(room, 'broadcast', 'chat:message', { text: 'sync' });
		const everyone = [observer, ...crowd];
		for (const p of everyone) await p.next('chat:message');

		// Rebuild each socket's view from what it heard: the list, then joins and leaves.
		const ids = everyone.map((p) => p.id).sort();
		for (const p of everyone) {
			const seen: string[] = [];
			for (const e of p.events) {
				if (e.name === 'session:list') seen.push(...e.data.sessions.map((s: any) => s.ws_session_id));
				if (e.name === 'session:connected') seen.push(e.data.ws_session_id);
			}
			expect(seen.sort()).toEqual(ids);
		}
		expect(observer.names().filter((n) => n === 'session:connected')).toHaveLength(20);
		expect(presenceFrames).toBeLessThan(20);
		await Promise.all(everyone.map((p) => p.close()));
	});
});

describe('handoff', () => {
	const upgrade = { headers: { upgrade: 'websocket' } };

	test('a request without a valid handoff is refused with a clear JSON body', async () => {
		const room = freshRoom();
		const cases: Array<[string | null, RegExp]> = [
			[null, /Missing x-delightstack-ws-handoff/],
			['not json', /not valid JSON/],
			[JSON.stringify({ room: '', meta: {} }), /non-empty "room"/],
			[JSON.stringify({ room, meta: 'x' }), /"meta" to be an object/],
		];
		for (const [handoff, message] of cases) {
			const q = handoff === null ? '' : `?handoff=${encodeURIComponent(handoff)}`;
			const res = await fetch(`${worker.origin}/raw/${room}${q}`, upgrade);
			expect(res.status).toBe(400);
			const body = (await res.json()) as any;
			expect(body.code).toBe('bad_handoff');
			expect(body.message).toMatch(message);
		}
		expect(await worker.rpc<any[]>(room, 'getSessions')).toEqual([]);
	});

	test('a plain request gets 426', async () => {
		const res = await fetch(`${worker.origin}/raw/${freshRoom()}?handoff=x`);
		expect(res.status).toBe(426);
		expect(((await res.json()) as any).code).toBe('upgrade_required');
	});

	test('metadata over the 16 KiB attachment limit is refused, nothing half-registered', async () => {
		const room = freshRoom();
		const a = await Probe.join(worker, room, { user_id: 'ann' });
		const handoff = JSON.stringify({ room, meta: { user_id: 'big', pad: 'x'.repeat(17_000) } });
		const res = await fetch(`${worker.origin}/raw/${room}?handoff=${encodeURIComponent(handoff)}`, upgrade);
		expect(res.status).toBe(400);
		expect(((await res.json()) as any).code).toBe('meta_too_large');
		expect((await worker.rpc<any[]>(room, 'getSessions')).map((s) => s.meta.user_id)).toEqual(['ann']);
		// Nobody was told about a session that never existed.
		expect(await a.rpc.add(1, 1)).toBe(2);
		expect(a.names()).toEqual(['session:list']);
		await a.close();
	});
});

describe('hooks that throw', () => {
	test('onConnect: that socket is closed with 1011 and never announced', async () => {
		const room = freshRoom();
		const a = await Probe.join(worker, room, { user_id: 'ann' });
		const bad = new Probe(worker.connectUrl(room, { user_id: 'bad', fail: 'connect' }));
		expect((await bad.closed).code).toBe(CloseCode.InternalError);
		const c = await Probe.join(worker, room, { user_id: 'cid' });
		expect((await a.next('session:connected')).meta.user_id).toBe('cid');
		expect(a.names()).toEqual(['session:list', 'session:connected']);
		expect(c.events[0]!.data.sessions.map((s: any) => s.meta.user_id)).toEqual(['ann', 'cid']);
		await Promise.all([a.close(), c.close()]);
	});

	test('onDisconnect: the leave is still announced and the room keeps working', async () => {
		const room = freshRoom();
		const [a, b] = await joinInTurn(worker, room, [{ user_id: 'ann' }, { user_id: 'bad', fail: 'disconnect' }]);
		await b!.close();
		expect((await a!.next('session:disconnected')).meta.user_id).toBe('bad');
		expect(await a!.rpc.add(2, 3)).toBe(5);
		await a!.close();
	});

	test('onMessage: the sender gets a coded error, the room and others carry on', async () => {
		const room = freshRoom();
		const [a, b] = await joinInTurn(worker, room, [{ user_id: 'ann' }, { user_id: 'bob' }]);
		const err: any = await a!.conn.send('explode', {}).catch((e) => e);
		expect(err.code).toBe('handler_failed');
		expect(err.message).toContain('explode');
		expect(await a!.conn.send('echo', { ok: 1 })).toEqual({ ok: 1 });
		expect(await b!.rpc.add(1, 2)).toBe(3);
		await Promise.all([a!.close(), b!.close()]);
	});
});

describe('server-side API over Workers RPC', () => {
	test('broadcast (with exclude), sendTo by session and by user, getSessions', async () => {
		const room = freshRoom();
		const [a, b, b2] = await joinInTurn(worker, room, [{ user_id: 'ann' }, { user_id: 'bob' }, { user_id: 'bob' }]);

		expect(await worker.rpc(room, 'broadcast', 'chat:message', { text: 'all' }, { exclude: a!.id })).toBe(2);
		for (const p of [b!, b2!]) expect(await p.next('chat:message')).toEqual({ text: 'all' });

		expect(await worker.rpc(room, 'sendTo', a!.id, 'chat:message', { text: 'to ann' })).toBe(1);
		expect(await a!.next('chat:message')).toEqual({ text: 'to ann' });

		expect(await worker.rpc(room, 'sendTo', { user: 'bob' }, 'chat:message', { text: 'to bob' })).toBe(2);
		for (const p of [b!, b2!]) expect(await p.next('chat:message')).toEqual({ text: 'to bob' });
		expect(await worker.rpc(room, 'sendTo', 'nobody', 'chat:message', {})).toBe(0);
		expect(a!.names().filter((n) => n === 'chat:message')).toHaveLength(1);

		const sessions = await worker.rpc<any[]>(room, 'getSessions');
		expect(sessions.map((s) => s.ws_session_id)).toEqual([a!.id, b!.id, b2!.id]);
		expect(sessions[0]).toMatchObject({ room, meta: { user_id: 'ann' } });
		expect(typeof sessions[0].connected_at).toBe('number');
		await Promise.all([a!.close(), b!.close(), b2!.close()]);
	});

	test('payloads keep Date, Map, Set, BigInt and undefined', async () => {
		const room = freshRoom();
		const [a, b] = await joinInTurn(worker, room, [{ user_id: 'ann' }, { user_id: 'bob' }]);
		const rich = { at: new Date(1_700_000_000_000), map: new Map([['k', 1]]), set: new Set(['s']), big: 2n ** 70n, nothing: undefined };
		await a!.conn.send('relay', rich);
		const got = await b!.next('rich');
		expect(got.at).toBeInstanceOf(Date);
		expect(got.at.getTime()).toBe(rich.at.getTime());
		expect(got.map).toEqual(rich.map);
		expect(got.set).toEqual(rich.set);
		expect(got.big).toBe(rich.big);
		expect('nothing' in got).toBe(true);
		await Promise.all([a!.close(), b!.close()]);
	});

	test('kick closes with 4001 and announces once; a normal close keeps its code', async () => {
		const room = freshRoom();
		const [a, b, c] = await joinInTurn(worker, room, [{ user_id: 'ann' }, { user_id: 'bob' }, { user_id: 'cid' }]);
		expect(await worker.rpc(room, 'kick', b!.id, 'spam')).toBe(true);
		expect(await b!.closed).toEqual({ code: CloseCode.Kicked, reason: 'spam' });
		expect((await a!.next('session:disconnected')).ws_session_id).toBe(b!.id);
		expect(await worker.rpc(room, 'kick', b!.id)).toBe(false);

		c!.conn.close(1000, 'done');
		expect(await c!.closed).toEqual({ code: 1000, reason: 'done' });
		expect((await a!.next('session:disconnected')).ws_session_id).toBe(c!.id);
		// One announcement each, even though the kicked socket's close also reached the room.
		expect(await a!.rpc.add(0, 0)).toBe(0);
		expect(a!.names().filter((n) => n === 'session:disconnected')).toHaveLength(2);
		await a!.close();
	});
});
