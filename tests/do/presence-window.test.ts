/**
 * Window presence (`presence: { window }`) against the real room in workerd, over real sockets: what
 * joins and leaves cost each member (counted from the raw frames a socket receives), what a joiner
 * gets, paging, counts across several sockets per user, leaves and eviction, and `ws.presence` on
 * the client. The rooms (presence-window-worker.ts) have a window of 5 and pages of at most 7.
 */
import { describe, expect, test } from 'bun:test';
import { SharedHub } from '../../client/shared/hub.js';
import { WebsocketClient } from '../../client/websocket-client.svelte.js';
import { MAX_PUSH_FRAME_BYTES } from '../../do/frame-size.js';
import { resolveOptions } from '../../do/options.js';
import { PRESENCE_METHOD } from '../../rpc/protocol.js';
import type { PresencePage, PresenceUpdate, PresenceWindow, SessionInfo } from '../../rpc/types.js';
import { noJitter } from '../support/clients.js';
import { Probe } from '../support/probe.js';
import { until } from '../support/runes.svelte.js';
import { roomWorkerPerFile } from '../support/workerd.js';
import type { TestApi, TestEvents, TestMeta } from '../worker/index.js';

const WINDOW = 5;
const PAGE_SIZE = 7;

const file = roomWorkerPerFile(
	'window',
	{
		durableObjects: {
			WINDOW: { className: 'WindowRoom', useSQLite: true },
			BATCHED: { className: 'BatchedWindowRoom', useSQLite: true },
			FULL: { className: 'TestRoom', useSQLite: true },
		},
	},
	'tests/do/presence-window-worker.ts',
	'presence-window-worker.js',
);

let rooms = 0;
/** A window room (`batched-…`: with presence coalescing; `full-…`: the full list). */
const freshRoom = (prefix = 'window') => `${prefix}-${++rooms}-${Date.now()}`;

const utf8 = (text: string) => new TextEncoder().encode(text).byteLength;

/** A socket in the room that keeps the size of every raw frame it receives. */
interface Member {
	probe: Probe;
	/** UTF-8 bytes of each frame received, in order (the first is the room's `session:list`). */
	frames: number[];
}

/** Opens a socket, waits for its list, and learns its session id from the room. */
async function join(room: string, meta: TestMeta): Promise<Member> {
	const probe = new Probe(file.worker.connectUrl(room, meta));
	const frames: number[] = [];
	// Added in the tick the socket is made: no frame can arrive before it.
	probe.conn.socket.addEventListener('message', (e) => frames.push(utf8(String(e.data))));
	await probe.conn.opened;
	await probe.next('session:list');
	probe.id = (await probe.rpc.whoami()).id;
	return { probe, frames };
}

/** A socket's view of the room, rebuilt from its list and the updates after it (the window's session ids sorted). */
function viewOf(p: Probe): { users: number; sessions: number; window: string[] } {
	let counts = { users: 0, sessions: 0 };
	let window: string[] = [];
	for (const { name, data } of p.events) {
		if (name === 'session:list') {
			const list = data as { sessions: SessionInfo<TestMeta>[]; window: PresenceWindow };
			counts = { users: list.window.users, sessions: list.window.sessions };
			window = list.sessions.map((s) => s.ws_session_id);
		}
		if (name === 'session:update') {
			const u = data as PresenceUpdate<TestMeta>;
			counts = { users: u.users, sessions: u.sessions };
			window = window.filter((id) => id !== u.left);
			for (const s of u.entered ?? []) window.push(s.ws_session_id);
			if (u.joined) window.push(u.joined.ws_session_id);
		}
		expect(name).not.toMatch(/^session:(connected|disconnected)$/);
	}
	return { ...counts, window: window.sort() };
}

/** The room's members in order of arrival (via Workers RPC), and the sorted ids of the first `WINDOW` members' sessions. */
async function roomState(room: string) {
	const sessions = await file.worker.rpc<Array<{ ws_session_id: string; meta: TestMeta; connected_at: number }>>(room, 'getSessions');
	sessions.sort((x, y) => x.connected_at - y.connected_at);
	const members: string[] = [];
	for (const s of sessions) if (!members.includes(memberOf(s))) members.push(memberOf(s));
	const inWindow = new Set(members.slice(0, WINDOW));
	return {
		members,
		window: sessions
			.filter((s) => inWindow.has(memberOf(s)))
			.map((s) => s.ws_session_id)
			.sort(),
	};
}

const memberOf = (s: { ws_session_id: string; meta: TestMeta }) => s.meta.user_id || s.ws_session_id;

/** Asks the room for one page of members, as `ws.presence.more()` does. */
function page(p: Probe, after: unknown, limit?: unknown): Promise<PresencePage<TestMeta>> {
	return (p.rpc as unknown as Record<string, (...args: unknown[]) => Promise<PresencePage<TestMeta>>>)[PRESENCE_METHOD]!(after, limit);
}

describe('the presence option', () => {
	test("'full' by default; a window gets its page size; anything else is refused, naming what was given", () => {
		expect(resolveOptions({}).presence).toBe('full');
		expect(resolveOptions({ presence: { window: 50 } }).presence).toEqual({ window: 50, pageSize: 100 });
		expect(resolveOptions({ presence: { window: 1, pageSize: 1000 } }).presence).toEqual({ window: 1, pageSize: 1000 });
		for (const bad of [{ window: 0 }, { window: 1001 }, { window: 2.5 }, { window: 10, pageSize: 0 }, { pageSize: 10 }, 'auto', 50]) {
			expect(() => resolveOptions({ presence: bad as never })).toThrow(
				`static options.presence must be 'full' or { window, pageSize? } with whole numbers from 1 to 1000; got ${JSON.stringify(bad)}`,
			);
		}
	});
});

describe('window presence: cost', () => {
	test('N sequential joins: each member gets one frame of constant size per join; a joiner gets the window, not the roster', async () => {
		const room = freshRoom();
		const observer = await join(room, { user_id: 'observer' });
		const N = 300;
		// ~120 bytes of meta each: a roster of 300 would be ~50 KB.
		const meta = (i: number): TestMeta => ({ user_id: `u${i}`, pad: `member ${i} `.repeat(8) });
		const perJoin: Array<{ frames: number; bytes: number }> = [];
		const firstFrame: number[] = [];
		const crowd: Member[] = [];
		for (let i = 0; i < N; i++) {
			const before = observer.frames.length;
			const member = await join(room, meta(i));
			crowd.push(member);
			firstFrame.push(member.frames[0]!);
			// With `presenceBatchMs: 0` each join is its own frame, sent when the join is done.
			expect((await observer.probe.next('session:update')).users).toBe(i + 2);
			const got = observer.frames.slice(before);
			perJoin.push({ frames: got.length, bytes: got.reduce((a, b) => a + b, 0) });
		}

		// One frame per join, for every member (the observer stands for them all: all frames are shared).
		expect(perJoin.every((j) => j.frames === 1)).toBe(true);
		// Joins into the window carry the member's entry; after that, the counts alone.
		const entries = perJoin.slice(0, WINDOW - 1).map((j) => j.bytes);
		const counts = perJoin.slice(WINDOW - 1).map((j) => j.bytes);
		expect(Math.min(...entries)).toBeGreaterThan(Math.max(...counts));
		// The bytes per join do not grow with N: the last join costs what the 10th did, give or take
		// the digits of the counts (2 numbers, from 2 to 3 digits).
		expect(Math.max(...counts)).toBeLessThanOrEqual(counts[5]! + 2);
		expect(Math.max(...counts)).toBeLessThan(120);

		// Every joiner's first frame holds the window (5 members) and the counts: bounded, whatever N.
		const lastList = crowd.at(-1)!.probe.events[0]!.data as { sessions: SessionInfo<TestMeta>[]; window: PresenceWindow };
		expect(lastList.sessions.map((s) => s.meta.user_id)).toEqual(['observer', 'u0', 'u1', 'u2', 'u3']);
		expect(lastList.window).toMatchObject({ users: N + 1, sessions: N + 1 });
		expect(Math.max(...firstFrame.slice(WINDOW))).toBeLessThanOrEqual(firstFrame[WINDOW]! + 4);
		expect(Math.max(...firstFrame)).toBeLessThan(2_000);

		// Every socket's view, rebuilt from what it heard, is the room's.
		const state = await roomState(room);
		for (const m of [observer, ...crowd]) expect(viewOf(m.probe)).toEqual({ users: N + 1, sessions: N + 1, window: state.window });
		await Promise.all([observer, ...crowd].map((m) => m.probe.close()));
	}, 120_000);

	test('a window too big for one frame comes in parts within the cap; apps see one list with the counts', async () => {
		const room = freshRoom();
		// ~4 KB of meta each (é is 2 bytes): the window of 5 is ~20 KB.
		const big = (user_id: string): TestMeta => ({ user_id, pad: 'é'.repeat(2_000) });
		const members: Member[] = [];
		for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) members.push(await join(room, big(id)));
		const late = await join(room, big('late'));
		expect(Math.max(...late.frames)).toBeLessThanOrEqual(MAX_PUSH_FRAME_BYTES);
		expect(late.frames.length).toBeGreaterThanOrEqual(4); // 3 or more parts, and the whoami reply
		expect(late.probe.names().filter((n) => n === 'session:list')).toHaveLength(1);
		const list = late.probe.events[0]!.data as { sessions: SessionInfo<TestMeta>[]; window: PresenceWindow };
		expect(list.sessions.map((s) => s.meta)).toEqual(['a', 'b', 'c', 'd', 'e'].map(big));
		expect(list.window).toMatchObject({ users: 7, sessions: 7 });

		const ws = client({ user_id: 'zed' });
		await ws.connect(room);
		expect([ws.presence.count, ws.presence.members.length]).toEqual([8, WINDOW]);
		ws.destroy();
		await Promise.all([...members, late].map((m) => m.probe.close()));
	});

	test("a connect storm with coalescing: every socket ends with the room's counts and window", async () => {
		const room = freshRoom('batched');
		const observer = await join(room, { user_id: 'observer' });
		const crowd = await Promise.all(Array.from({ length: 60 }, (_, i) => join(room, { user_id: `u${i % 40}` })));
		// Any other event flushes pending presence first.
		await file.worker.rpc(room, 'broadcast', 'chat:message', { text: 'sync' });
		const everyone = [observer, ...crowd];
		for (const m of everyone) await m.probe.next('chat:message');
		const state = await roomState(room);
		expect(state.members).toHaveLength(41);
		for (const m of everyone) expect(viewOf(m.probe)).toEqual({ users: 41, sessions: 61, window: state.window });
		await Promise.all(everyone.map((m) => m.probe.close()));
	}, 60_000);
});

describe('window presence: counts', () => {
	test('several sockets per user count once; leaves update counts; a window member leaving brings in the next', async () => {
		const room = freshRoom();
		const observer = await join(room, { user_id: 'observer' });
		const ann1 = await join(room, { user_id: 'ann' });
		const ann2 = await join(room, { user_id: 'ann' });
		const others = [];
		for (const id of ['bob', 'cid', 'dan', 'eve', 'fay']) others.push(await join(room, { user_id: id }));
		// A socket without a user_id is a member of its own.
		const anon = await join(room, {} as TestMeta);
		const joins: PresenceUpdate<TestMeta>[] = [];
		for (let i = 0; i < 8; i++) joins.push(await observer.probe.next('session:update'));
		expect(joins.at(-1)).toEqual({ users: 8, sessions: 9 });
		// ann's second tab: she is in the window, so it comes with its entry.
		expect(joins[1]).toEqual({ users: 2, sessions: 3, joined: { ws_session_id: ann2.probe.id, meta: { user_id: 'ann' } } });

		// One of ann's sockets: one socket fewer, same users.
		await ann1.probe.close();
		expect(await observer.probe.next('session:update')).toEqual({ users: 8, sessions: 8, left: ann1.probe.id });
		// Her last: she is gone, and eve (the 6th member) moves into the window.
		await ann2.probe.close();
		expect(await observer.probe.next('session:update')).toEqual({
			users: 7,
			sessions: 7,
			left: ann2.probe.id,
			gone: 'ann',
			entered: [{ ws_session_id: others[3]!.probe.id, meta: { user_id: 'eve' } }],
		});
		// Outside the window: the counts, and who is gone (for lists paged that far).
		await others[4]!.probe.close();
		expect(await observer.probe.next('session:update')).toEqual({ users: 6, sessions: 6, gone: 'fay' });
		await anon.probe.close();
		expect(await observer.probe.next('session:update')).toEqual({ users: 5, sessions: 5, gone: anon.probe.id });

		const state = await roomState(room);
		for (const m of [observer, ...others.slice(0, 4)]) expect(viewOf(m.probe)).toEqual({ users: 5, sessions: 5, window: state.window });
		// A joiner now gets the same.
		const late = await join(room, { user_id: 'gus' });
		expect(late.probe.events[0]!.data.window).toMatchObject({ users: 6, sessions: 6 });
		await Promise.all([observer, late, ...others.slice(0, 4)].map((m) => m.probe.close()));
	});
});

describe('window presence: refused sockets', () => {
	test('a socket onConnect refuses is never shown, and the counts sent meanwhile are corrected', async () => {
		const room = freshRoom();
		const observer = await join(room, { user_id: 'observer' });
		const bad = new Probe(file.worker.connectUrl(room, { user_id: 'bad', fail: 'connect' }));
		expect((await bad.closed).code).toBe(1011);
		const cid = await join(room, { user_id: 'cid' });
		const updates: PresenceUpdate<TestMeta>[] = [await observer.probe.next('session:update')];
		if (updates[0]!.users !== 2) updates.push(await observer.probe.next('session:update'));
		// The refused socket was counted while onConnect ran; the correction says so, and nothing names it.
		expect(updates.at(-1)).toEqual({ users: 2, sessions: 2, joined: { ws_session_id: cid.probe.id, meta: { user_id: 'cid' } } });
		expect(JSON.stringify(observer.probe.events)).not.toContain('"bad"');
		expect(viewOf(observer.probe)).toEqual({ users: 2, sessions: 2, window: (await roomState(room)).window });
		await Promise.all([observer.probe.close(), cid.probe.close()]);
	});
});

describe('window presence: pages', () => {
	test("paging returns every member exactly once, in order of arrival, with each member's sockets", async () => {
		const room = freshRoom();
		const ids: string[] = [];
		const members: Member[] = [];
		for (let i = 0; i < 30; i++) {
			const user_id = `p${String(i).padStart(2, '0')}`;
			ids.push(user_id);
			members.push(await join(room, { user_id }));
			// Every 4th member has a second socket.
			if (i % 4 === 0) members.push(await join(room, { user_id }));
		}
		const asker = members[0]!.probe;
		const seen: string[] = [];
		let cursor = '';
		for (;;) {
			const got = await page(asker, cursor);
			const pageMembers = [...new Set(got.sessions.map((s) => s.meta.user_id))];
			expect(pageMembers.length).toBeLessThanOrEqual(PAGE_SIZE);
			for (const id of pageMembers) {
				const sockets = got.sessions.filter((s) => s.meta.user_id === id);
				expect(sockets).toHaveLength(Number(id.slice(1)) % 4 === 0 ? 2 : 1);
			}
			if (pageMembers.length === 0) {
				expect(got.next).toBe(cursor);
				break;
			}
			seen.push(...pageMembers);
			cursor = got.next;
		}
		expect(seen).toEqual(ids);
		expect(seen).toEqual((await roomState(room)).members);
		// A smaller page on request, never a larger one; the window's cursor continues right after the window.
		expect((await page(asker, '', 2)).sessions.map((s) => s.meta.user_id)).toEqual(['p00', 'p00', 'p01']);
		expect(new Set((await page(asker, '', 1000)).sessions.map((s) => s.meta.user_id)).size).toBe(PAGE_SIZE);
		const windowNext = (members.at(-1)!.probe.events[0]!.data as { window: PresenceWindow }).window.next;
		expect((await page(asker, windowNext, 1)).sessions[0]!.meta.user_id).toBe('p05');
		await Promise.all(members.map((m) => m.probe.close()));
	});

	test('bad page requests are refused with clear errors; a full-presence room has no pages', async () => {
		const room = freshRoom();
		const a = await join(room, { user_id: 'ann' });
		const refusal = (after: unknown, limit?: unknown) =>
			page(a.probe, after, limit).then(
				() => null,
				(e) => ({ code: e.code, message: e.message }),
			);
		expect(await refusal('', 0)).toMatchObject({ code: 'bad_request', message: expect.stringContaining('at least 1 member (at most 7)') });
		expect(await refusal('', 1.5)).toMatchObject({ code: 'bad_request' });
		expect(await refusal('', '3')).toMatchObject({ code: 'bad_request' });
		expect(await refusal(42)).toMatchObject({ code: 'bad_request', message: expect.stringContaining('cursor') });
		expect(await refusal('nonsense')).toMatchObject({ code: 'bad_request', message: expect.stringContaining('Not a presence cursor') });
		expect(await refusal('x'.repeat(300))).toMatchObject({ code: 'bad_request' });
		// The socket is fine after all that.
		expect(await a.probe.rpc.add(1, 2)).toBe(3);

		const fullRoom = freshRoom('full');
		const b = await Probe.join(file.worker, fullRoom, { user_id: 'bob' });
		const err = await page(b, '').catch((e) => e);
		expect(err.code).toBe('bad_request');
		expect(err.message).toContain("presence: 'full'");
		await Promise.all([a.probe.close(), b.close()]);
	});
});

type Client = WebsocketClient<TestMeta, TestEvents, TestApi>;
const client = (meta: TestMeta): Client =>
	new WebsocketClient<TestMeta, TestEvents, TestApi>({ WebSocket, url: (r) => file.worker.connectUrl(r, meta), random: noJitter });

describe('ws.presence', () => {
	test('window: count always, the window, more() pages in everyone once, while members come and go', async () => {
		const room = freshRoom();
		const members: Member[] = [];
		for (let i = 0; i < 20; i++) members.push(await join(room, { user_id: `m${String(i).padStart(2, '0')}` }));
		members.push(await join(room, { user_id: 'm03' })); // a second socket of a window member
		const ws = client({ user_id: 'zed' });
		await ws.connect(room);
		const p = ws.presence;
		expect(p.mode).toBe('window');
		expect([p.count, p.sessionCount]).toEqual([21, 22]);
		expect(p.members.map((m) => m.id)).toEqual(['m00', 'm01', 'm02', 'm03', 'm04']);
		expect(p.members[3]!.sessions).toHaveLength(2);
		expect(p.complete).toBe(false);
		// ws.sessions and ws.users are what is known: the window so far.
		expect(ws.sessions).toHaveLength(6);
		expect(ws.users.map((u) => u.user_id)).toEqual(['m00', 'm01', 'm02', 'm03', 'm04']);

		// Calls made while one is under way share it.
		const first = p.more();
		expect(p.loading).toBe(true);
		expect(p.more()).toBe(first);
		expect(await first).toBe(PAGE_SIZE);
		expect(p.loading).toBe(false);
		expect(p.members).toHaveLength(WINDOW + PAGE_SIZE);

		// Churn while paging: a window member leaves (m05, already paged in, moves into the window),
		// a paged member leaves, one not yet paged leaves, and a new one arrives at the end.
		await members[1]!.probe.close(); // m01
		await members[7]!.probe.close(); // m07
		await members[14]!.probe.close(); // m14
		const late = await join(room, { user_id: 'n00' });
		await until(() => p.count === 19, 'count 19');
		expect(p.members.map((m) => m.id)).toEqual(['m00', 'm02', 'm03', 'm04', 'm05', 'm06', 'm08', 'm09', 'm10', 'm11']);

		while (!p.complete) expect(await p.more()).toBeGreaterThan(0);
		const expected = ['m00', 'm02', 'm03', 'm04', 'm05', 'm06', 'm08', 'm09', 'm10', 'm11', 'm12', 'm13', 'm15', 'm16', 'm17', 'm18', 'm19', 'zed', 'n00'];
		expect(p.members.map((m) => m.id)).toEqual(expected);
		expect(p.count).toBe(expected.length);
		expect(await p.more()).toBe(0);

		// Someone paged in leaves: gone from the list.
		await members[17]!.probe.close(); // m17
		await until(() => p.count === 18, 'count 18');
		expect(p.members.map((m) => m.id)).toEqual(expected.filter((id) => id !== 'm17'));
		expect(p.complete).toBe(true);
		// Someone new: counted, and more() brings them in.
		const later = await join(room, { user_id: 'n01' });
		await until(() => p.count === 19, 'count 19');
		expect(ws.presence.complete).toBe(false);
		expect(await p.more()).toBe(1);
		expect(p.members.at(-1)!.id).toBe('n01');

		// A reconnect starts from a fresh window.
		ws.disconnect();
		expect([p.count, p.members.length, p.mode]).toEqual([0, 0, 'full']);
		expect(await p.more()).toBe(0);
		ws.destroy();
		await Promise.all([...members, late, later].map((m) => m.probe.close()));
	}, 60_000);

	test('full: the whole room, complete, nothing to page', async () => {
		const room = freshRoom('full');
		const a = await Probe.join(file.worker, room, { user_id: 'ann' });
		const a2 = await Probe.join(file.worker, room, { user_id: 'ann' });
		const ws = client({ user_id: 'bob' });
		await ws.connect(room);
		const p = ws.presence;
		expect([p.mode, p.count, p.sessionCount, p.complete]).toEqual(['full', 2, 3, true]);
		expect(p.members.map((m) => [m.id, m.sessions.length])).toEqual([
			['ann', 2],
			['bob', 1],
		]);
		expect(await p.more()).toBe(0);
		await a2.close();
		await until(() => p.sessionCount === 2, 'two sockets');
		expect(p.count).toBe(2);
		ws.destroy();
		await a.close();
	});
});

describe('window presence through the SharedWorker', () => {
	test('a tab joining an open room gets the counts and the window as the socket knows them, and pages through the worker', async () => {
		const room = freshRoom();
		const members: Member[] = [];
		for (let i = 0; i < 9; i++) members.push(await join(room, { user_id: `s${i}` }));
		// An in-process hub, reached over a MessageChannel as a tab reaches the real SharedWorker.
		const hub = new SharedHub({ WebSocket });
		const channels: MessageChannel[] = [];
		const tab = () =>
			new WebsocketClient<TestMeta, TestEvents, TestApi>({
				WebSocket,
				url: (r) => file.worker.connectUrl(r, { user_id: 'tabs' }),
				sharedWorker: () => {
					const channel = new MessageChannel();
					channels.push(channel);
					hub.attach(channel.port2);
					return channel.port1;
				},
			});
		const a = tab();
		await a.connect(room);
		expect([a.presence.count, a.presence.members.length]).toEqual([10, WINDOW]);
		// While the worker's socket is up: a window member leaves (s5 moves in), one outside leaves, one arrives.
		await members[2]!.probe.close();
		await members[7]!.probe.close();
		const late = await join(room, { user_id: 'late' });
		await until(() => a.presence.count === 9 && a.presence.members.some((m) => m.id === 's5'), 's5 in the window');

		const b = tab();
		await b.connect(room);
		expect(b.presence.mode).toBe('window');
		expect([b.presence.count, b.presence.sessionCount]).toEqual([9, 9]);
		expect(b.presence.members.map((m) => m.id)).toEqual(['s0', 's1', 's3', 's4', 's5']);
		while (!b.presence.complete) await b.presence.more();
		expect(b.presence.members.map((m) => m.id)).toEqual(['s0', 's1', 's3', 's4', 's5', 's6', 's8', 'tabs', 'late']);
		// One socket for both tabs.
		expect(hub.stats().rooms).toMatchObject([{ room, tabs: 2 }]);
		expect((await roomState(room)).members).toEqual(b.presence.members.map((m) => m.id));
		a.destroy();
		b.destroy();
		hub.dispose();
		for (const channel of channels) channel.port2.close();
		await Promise.all([...members, late].map((m) => m.probe.close()));
	});
});

describe('window presence across eviction', () => {
	test('counts, window and places are rebuilt from the attachments; leaves after it are counted right', async () => {
		const room = freshRoom();
		const members: Member[] = [];
		// x's first socket leaves before the idle: x keeps its place (second) through the eviction.
		for (const id of ['a', 'x', 'b', 'b', 'c', 'd', 'e', 'f', 'g', 'x']) members.push(await join(room, { user_id: id }));
		const [a, x1, b1, b2, c, d, e, f, g, x2] = members as [Member, Member, Member, Member, Member, Member, Member, Member, Member, Member];
		await x1.probe.close();
		const observer = a.probe;
		for (let i = 0; i < 9; i++) await observer.next('session:update'); // the joins
		expect(await observer.next('session:update')).toEqual({ users: 8, sessions: 9, left: x1.probe.id });
		const before = await file.worker.rpc<{ instanceId: string }>(room, 'stats');

		await new Promise((resolve) => setTimeout(resolve, 12_000)); // workerd evicts an idle room after ~10 s

		// The first frame the new instance reads asks for a page: it pages the whole room, not only
		// what the room has read of itself so far (the caller's sockets).
		const early = await page(observer, '');
		expect([...new Set(early.sessions.map((s) => s.meta.user_id))]).toEqual(['a', 'x', 'b', 'c', 'd', 'e', 'f']); // a page of 7

		// A new instance: a joiner's list has the right counts, and the window in the same order.
		const late = await join(room, { user_id: 'h' });
		expect((await file.worker.rpc<{ instanceId: string }>(room, 'stats')).instanceId).not.toBe(before.instanceId);
		const list = late.probe.events[0]!.data as { sessions: SessionInfo<TestMeta>[]; window: PresenceWindow };
		expect(list.window).toMatchObject({ users: 9, sessions: 10 });
		expect(list.sessions.map((s) => s.meta.user_id)).toEqual(['a', 'x', 'b', 'b', 'c', 'd']);
		expect(await observer.next('session:update')).toEqual({ users: 9, sessions: 10 });

		// Leaves after eviction: one of b's two sockets, then a window member, then one outside.
		await b1.probe.close();
		expect(await observer.next('session:update')).toEqual({ users: 9, sessions: 9, left: b1.probe.id });
		await c.probe.close(); // e moves into the window
		expect(await observer.next('session:update')).toEqual({
			users: 8,
			sessions: 8,
			left: c.probe.id,
			gone: 'c',
			entered: [{ ws_session_id: e.probe.id, meta: { user_id: 'e' } }],
		});
		await g.probe.close();
		expect(await observer.next('session:update')).toEqual({ users: 7, sessions: 7, gone: 'g' });

		// Pages from the new instance: everyone once, x still second.
		const got = await page(observer, '');
		expect([...new Set(got.sessions.map((s) => s.meta.user_id))]).toEqual(['a', 'x', 'b', 'd', 'e', 'f', 'h']);
		const window = [a, x2, b2, d, e].map((m) => m.probe.id).sort();
		for (const m of [a, x2, b2, d, e, f]) expect(viewOf(m.probe)).toEqual({ users: 7, sessions: 7, window });
		await Promise.all([...members, late].map((m) => m.probe.close()));
	}, 60_000);
});
