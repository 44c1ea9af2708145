import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { WebsocketClient } from '../../client/websocket-client.svelte.js';
import { COUNT_FRAMES_PER_SECOND, MAX_COUNTS_DELAY_MS, PresenceQueue, countsDelayMs } from '../../do/presence.js';
import { MAX_PUSH_FRAME_BYTES, utf8Length } from '../../do/frame-size.js';
import { Roster } from '../../do/roster.js';
import type { SessionState } from '../../do/sessions.js';
import { eventLine, eventPayload, eventsFrame, parseFrame, readEventLine } from '../../rpc/frame.js';
import { decodePayload, encodePayload } from '../../rpc/payload.js';
import { CloseCode, HANDOFF_HEADER, type SessionChange, type SessionChanges, type SessionListPart } from '../../rpc/protocol.js';
import type { Session } from '../../rpc/types.js';
import { noJitter } from '../support/clients.js';
import { Probe, joinInTurn } from '../support/probe.js';
import { startRoomWorker, type RoomWorker } from '../support/workerd.js';
import type { TestApi, TestEvents, TestMeta } from '../worker/index.js';

let worker: RoomWorker;
beforeAll(async () => (worker = await startRoomWorker()));
afterAll(() => worker.dispose());

let rooms = 0;
const freshRoom = () => `presence-${++rooms}-${Date.now()}`;

/** The sessions a socket learned of, rebuilt from what it heard (the list, then joins), sorted. */
function heardSessions(p: Probe): string[] {
	const seen: string[] = [];
	for (const e of p.events) {
		if (e.name === 'session:list') seen.push(...e.data.sessions.map((s: any) => s.ws_session_id));
		if (e.name === 'session:connected') seen.push(e.data.ws_session_id);
	}
	return seen.sort();
}

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
		observer.conn.socket.addEventListener('message', (e) => String(e.data).includes('"session:changes"') && presenceFrames++);
		const crowd = await Promise.all(Array.from({ length: 20 }, (_, i) => Probe.join(worker, room, { user_id: `u${i}` })));
		await Promise.all(crowd.map((p) => p.rpc.add(0, 0))); // any other event flushes pending presence first
		await worker.rpc(room, 'broadcast', 'chat:message', { text: 'sync' });
		const everyone = [observer, ...crowd];
		for (const p of everyone) await p.next('chat:message');

		// Rebuild each socket's view from what it heard: the list, then joins and leaves.
		const ids = everyone.map((p) => p.id).sort();
		for (const p of everyone) {
			expect(heardSessions(p)).toEqual(ids);
		}
		expect(observer.names().filter((n) => n === 'session:connected')).toHaveLength(20);
		expect(presenceFrames).toBeLessThan(20);
		await Promise.all(everyone.map((p) => p.close()));
	});

	test('a WebsocketClient hears coalesced joins and leaves each as its own event, in order, presence already applied', async () => {
		const room = freshRoom();
		let changesFrames = 0;
		const ws = new WebsocketClient<TestMeta, TestEvents, TestApi>({
			WebSocket,
			url: (r) => worker.connectUrl(r, { user_id: 'watcher' }),
			random: noJitter,
			debug: (line) => void (line.startsWith('←') && line.includes('"session:changes"') && changesFrames++),
		});
		const heard: string[] = [];
		// Each listener sees the change it announces already in `ws.sessions`.
		ws.on('session:connected', (s) => heard.push(`+${s.meta.user_id}:${ws.sessions.some((k) => k.ws_session_id === s.ws_session_id)}:${s.num_connections}`));
		ws.on('session:disconnected', (s) => heard.push(`-${s.meta.user_id}:${ws.sessions.some((k) => k.ws_session_id === s.ws_session_id)}:${s.num_connections}`));
		ws.on('chat:message', () => heard.push('chat'));
		await ws.connect(room);
		// Five join together, two of them leave, within one presence delay: one session:changes frame.
		const crowd = await Promise.all(Array.from({ length: 5 }, (_, i) => Probe.join(worker, room, { user_id: `u${i}` })));
		await Promise.all([crowd[1]!.close(), crowd[3]!.close()]);
		const chat = new Promise<void>((resolve) => ws.once('chat:message', () => resolve()));
		await worker.rpc(room, 'broadcast', 'chat:message', { text: 'after' }); // flushes pending presence first
		await chat;
		const joins = heard.filter((h) => h.startsWith('+'));
		const leaves = heard.filter((h) => h.startsWith('-'));
		expect(joins.map((h) => h.split(':')[0]).sort()).toEqual(['+u0', '+u1', '+u2', '+u3', '+u4']);
		expect(joins.every((h) => h.split(':')[1] === 'true')).toBe(true);
		expect(leaves.map((h) => h.split(':')[0]).sort()).toEqual(['-u1', '-u3']);
		expect(leaves.every((h) => h.split(':')[1] === 'false')).toBe(true);
		// In the room's order: counts go up by one per join and down by one per leave, and the
		// broadcast comes after all of them.
		const counts = heard.filter((h) => h !== 'chat').map((h) => Number(h.split(':')[2]));
		for (let i = 1; i < counts.length; i++) expect(Math.abs(counts[i]! - counts[i - 1]!)).toBe(1);
		expect(heard.at(-1)).toBe('chat');
		expect(ws.sessions.map((s) => s.meta.user_id).sort()).toEqual(['u0', 'u2', 'u4', 'watcher']);
		// They came coalesced: fewer session:changes frames than changes.
		expect(changesFrames).toBeGreaterThan(0);
		expect(changesFrames).toBeLessThan(7);
		ws.destroy();
		await Promise.all([crowd[0]!.close(), crowd[2]!.close(), crowd[4]!.close()]);
	});
});

/** The payload of each `session:list` event in an events frame, read as the client reads it. */
function listParts(frame: string): SessionListPart<unknown>[] {
	const parsed = parseFrame(frame);
	if (parsed?.kind !== 'events') throw new Error(`not an events frame: ${frame.slice(0, 40)}`);
	return parsed.messages.map((line) => {
		const event = readEventLine(line)!;
		expect(event[0]).toBe('session:list');
		return decodePayload<SessionListPart<unknown>>(eventPayload(event));
	});
}

/** What the room sent before lists came in parts: one frame, encoded whole. */
const encodedWhole = (data: SessionListPart<unknown>) => eventsFrame([eventLine('session:list', encodePayload(data))]);

/** Sessions as a room holds them: each meta its own copy, as parsed from its handoff or attachment. */
function states(metas: unknown[]): SessionState<unknown>[] {
	return metas.map((meta, i) => ({
		session: { ws_session_id: `id-${i}`, room: 'r', meta: structuredClone(meta), connected_at: 1_700_000_000_000 + i } satisfies Session<unknown>,
		limits: { calls: { tokens: 1, at: 0 }, events: { tokens: 1, at: 0 }, frames: { tokens: 1, at: 0 }, connects: { tokens: 1, at: 0 } },
		seen: 0,
		refusals: 0,
		backlog: { sent: 0, read: 0 },
	}));
}

describe('session list frames (Roster)', () => {
	const awkward: Array<Record<string, unknown>> = [
		{ user_id: 'plain' },
		{ user_id: 'quote"back\\slash', note: 'line\nbreak\ttab\u0001ctl', emoji: 'é🙂' },
		{ user_id: 'arrays', nested: [[1, [2, []]], [], [[['deep']]]], mixed: [null, true, 0, -1.5e-7, 'x'] },
		{ user_id: 'keys', 'a.b': 1, 'back\\slash': { '': 'empty key' }, '0': 'numeric key' },
		{ user_id: 'big', pad: 'x'.repeat(500) },
	];
	// Meta a handle cannot produce (it passes JSON), but a room's own code could: superjson annotates
	// these, so their parts are encoded whole.
	const shared = { same: 'object twice' };
	const annotated: Array<Record<string, unknown>> = [
		{ user_id: 'date', at: new Date(1_700_000_000_000) },
		{ user_id: 'undef', gone: undefined, list: [undefined, new Date(0)] },
		{ user_id: 'numbers', neg: -0, inf: Infinity, big: 2n ** 70n },
		{ user_id: 'map', m: new Map([['k.k', new Set([1])]]) },
		{ user_id: 'twice', a: shared, b: shared },
	];

	test('one part: byte for byte what encoding the whole list gives', () => {
		for (const metas of [awkward, annotated, [...awkward, ...annotated], [awkward[0]]]) {
			const list = states(metas);
			const frames = new Roster<unknown>(1 << 20).frames(list);
			const sessions = list.map((s) => ({ ws_session_id: s.session.ws_session_id, meta: s.session.meta }));
			expect(frames).toEqual([encodedWhole({ sessions })]);
		}
		expect(new Roster<unknown>().frames([])).toEqual([encodedWhole({ sessions: [] })]);
	});

	test('many parts: each is what the encoder makes of that part, all within the cap, in order', () => {
		const metas = Array.from({ length: 120 }, (_, i): Record<string, unknown> => ({
			...(i % 7 === 3 ? annotated[i % annotated.length] : awkward[i % awkward.length]),
			n: i,
		}));
		// Parts with and without annotated entries, so both ways of building a part are checked.
		expect(metas.filter((m) => annotated.some((a) => a.user_id === m.user_id)).length).toBeGreaterThan(10);
		const list = states(metas);
		const cap = 2048;
		const roster = new Roster<unknown>(cap);
		const frames = roster.frames(list);
		expect(frames.length).toBeGreaterThan(10);
		const infos = list.map((s) => ({ ws_session_id: s.session.ws_session_id, meta: s.session.meta }));
		const seen: unknown[] = [];
		frames.forEach((frame, i) => {
			expect(utf8Length(frame)).toBe(new TextEncoder().encode(frame).byteLength);
			expect(utf8Length(frame)).toBeLessThanOrEqual(cap);
			const [part, ...rest] = listParts(frame);
			expect(rest).toEqual([]);
			const last = i === frames.length - 1;
			expect(part!.more).toBe(last ? undefined : true);
			expect(part!.sessions.length).toBeGreaterThan(0);
			// The same sessions, encoded whole the old way: the same bytes.
			const sessions = infos.slice(seen.length, seen.length + part!.sessions.length);
			expect(frame).toBe(encodedWhole(last ? { sessions } : { sessions, more: true }));
			seen.push(...part!.sessions);
		});
		expect(seen).toEqual(infos);
		// Cached entries give the same frames again; a fresh roster (a room after eviction) too.
		expect(roster.frames(list)).toEqual(frames);
		expect(new Roster<unknown>(cap).frames(list)).toEqual(frames);
		// A session gone: the rest, in order, still exactly the encoder's.
		const fewer = list.filter((_, i) => i !== 5);
		const again = roster.frames(fewer).flatMap((f) => listParts(f).flatMap((p) => p.sessions));
		expect(again).toEqual(fewer.map((s) => ({ ws_session_id: s.session.ws_session_id, meta: s.session.meta })));
	});

	test('a roster reusing the parts of earlier lists sends what a fresh one sends, through joins and leaves', () => {
		const metas = Array.from({ length: 90 }, (_, i): Record<string, unknown> => ({
			...(i % 11 === 4 ? annotated[i % annotated.length] : awkward[i % awkward.length]),
			n: i,
		}));
		const all = states(metas);
		const roster = new Roster<unknown>(1024);
		let room: SessionState<unknown>[] = [];
		const check = () => expect(roster.frames(room)).toEqual(new Roster<unknown>(1024).frames(room));
		for (const [i, state] of all.entries()) {
			room.push(state);
			check();
			// Leaves now and then: early, in the middle, the last one, and a big entry whose space a smaller one may take.
			if (i % 9 === 8) {
				room = room.filter((_, at) => at !== (i % 4) * 3);
				check();
			}
			if (i % 13 === 12) {
				room = room.slice(0, -1);
				check();
			}
		}
		// Any one session gone from a full list, the first of a part included (what follows may now fit in the part before).
		const full = [...room];
		for (let gone = 0; gone < full.length; gone++) {
			room = full.filter((_, at) => at !== gone);
			check();
			room = full;
			check();
		}
		while (room.length > 0) {
			room = room.slice(1);
			check();
		}
	});

	test('window lists: the last part is byte for byte what the encoder makes of it, window and all', () => {
		const windows = [
			{ users: 3, sessions: 4, next: 'cursor' },
			// A cursor that looks like the list being pasted, and one that needs escaping.
			{ users: 0, sessions: 0, next: '' },
			{ users: 1e6, sessions: 2e6, next: '[[]]"\\\u2028' },
		];
		for (const window of windows) {
			for (const metas of [awkward, annotated, [...awkward, ...annotated], [], [awkward[0]]]) {
				const list = states(metas);
				const frames = new Roster<unknown>(1 << 20).windowFrames(
					list.map((s) => s.session),
					window,
				);
				const sessions = list.map((s) => ({ ws_session_id: s.session.ws_session_id, meta: s.session.meta }));
				expect(frames).toEqual([encodedWhole({ window, sessions })]);
				expect(listParts(frames[0]!)).toEqual([{ window, sessions }]);
			}
		}
		// In parts: every part but the last as a full list's, the last one with the window.
		const list = states(Array.from({ length: 60 }, (_, i) => ({ ...awkward[i % awkward.length], n: i })));
		const frames = new Roster<unknown>(2048).windowFrames(
			list.map((s) => s.session),
			windows[2]!,
		);
		expect(frames.length).toBeGreaterThan(3);
		const parts = frames.flatMap(listParts);
		expect(parts.slice(0, -1).every((p) => p.more === true && p.window === undefined)).toBe(true);
		expect(parts.at(-1)!.window).toEqual(windows[2]);
		expect(parts.flatMap((p) => p.sessions)).toEqual(list.map((s) => ({ ws_session_id: s.session.ws_session_id, meta: s.session.meta })));
		for (const frame of frames) expect(utf8Length(frame)).toBeLessThanOrEqual(2048);
		// Annotated entries over several parts (a part halved when its estimate fell short): the window stays on the last.
		const annotatedList = states(Array.from({ length: 12 }, (_, i) => ({ ...annotated[i % annotated.length], n: i, pad: 'p'.repeat(60) })));
		const split = new Roster<unknown>(1024).windowFrames(
			annotatedList.map((s) => s.session),
			windows[0]!,
		);
		const splitParts = split.flatMap(listParts);
		expect(splitParts.length).toBeGreaterThan(1);
		expect(splitParts.slice(0, -1).every((p) => p.more === true && p.window === undefined)).toBe(true);
		expect(splitParts.at(-1)).toMatchObject({ window: windows[0] });
		expect(splitParts.at(-1)!.more).toBeUndefined();
		expect(splitParts.flatMap((p) => p.sessions)).toEqual(annotatedList.map((s) => ({ ws_session_id: s.session.ws_session_id, meta: s.session.meta })));
		for (const frame of split) expect(utf8Length(frame)).toBeLessThanOrEqual(1024);
	});

	test('an entry larger than the cap goes alone, whole', () => {
		const list = states([{ user_id: 'a' }, { user_id: 'huge', pad: 'y'.repeat(3000) }, { user_id: 'b' }]);
		const frames = new Roster<unknown>(1024).frames(list);
		expect(frames.map((f) => listParts(f)[0]!.sessions.map((s) => (s.meta as TestMeta).user_id))).toEqual([['a'], ['huge'], ['b']]);
	});
});

describe('presence frames (PresenceQueue)', () => {
	test('a long queue goes out in order, in frames within the cap; joiners skip what they know', () => {
		const cap = 1024;
		const queue = new PresenceQueue(60_000, () => {}, undefined, cap);
		const [old, early, late] = [{}, {}, {}] as unknown as WebSocket[];
		const message = (i: number) => eventLine('session:connected', encodePayload({ ws_session_id: `s${i}`, meta: { pad: 'ü'.repeat(i % 90) } }));
		for (let i = 0; i < 40; i++) queue.add(message(i));
		queue.listed(early!);
		queue.add(message(40), early);
		for (let i = 41; i < 80; i++) queue.add(message(i));
		queue.listed(late!);
		queue.add(message(80), late);

		const got = new Map<WebSocket, string[]>();
		const dead = queue.drain([old!, early!, late!], (ws, frame) => {
			expect(utf8Length(frame)).toBeLessThanOrEqual(cap);
			got.set(ws, [...(got.get(ws) ?? []), frame]);
			return true;
		});
		expect(dead).toEqual([]);
		const messages = (ws: WebSocket) => got.get(ws)!.flatMap((f) => (parseFrame(f) as { messages: string[] }).messages);
		const all = Array.from({ length: 81 }, (_, i) => message(i));
		expect(got.get(old!)!.length).toBeGreaterThan(5);
		expect(messages(old!)).toEqual(all);
		expect(messages(early!)).toEqual(all.slice(41));
		expect(got.get(late!)).toBeUndefined();
		expect(queue.empty).toBe(true);
	});

	test('joins and leaves that go out together are one session:changes per frame, in order, within the cap', () => {
		const cap = 1024;
		const queue = new PresenceQueue(60_000, () => {}, undefined, cap);
		const [old, joiner] = [{}, {}] as unknown as WebSocket[];
		const info = (i: number) => ({ ws_session_id: `s${i}`, meta: { pad: 'ü'.repeat(i % 30) } as unknown, num_connections: i });
		const changes: Array<SessionChange<unknown> & { disconnected?: unknown }> = [];
		const queueChange = (change: SessionChange<unknown>, ws?: WebSocket) => (changes.push(change), queue.change(change, ws));
		for (let i = 0; i < 30; i++) queueChange({ connected: info(i) });
		queueChange({ disconnected: info(3) });
		// Meta superjson must annotate (a Date) cannot be pasted: it goes as its own event.
		queueChange({ connected: { ...info(30), meta: { at: new Date(0) } } });
		queue.listed(joiner!);
		queueChange({ connected: info(31) }, joiner);
		for (let i = 32; i < 40; i++) queueChange({ connected: info(i) });
		// A window update between them (not in a full room, but the queue keeps any message in place).
		const update = eventLine('session:update', encodePayload({ users: 1, sessions: 1 }));
		queue.add(update);
		queueChange({ disconnected: info(39) });

		const got = new Map<WebSocket, string[]>();
		queue.drain([old!, joiner!], (ws, frame) => {
			expect(utf8Length(frame)).toBeLessThanOrEqual(cap);
			got.set(ws, [...(got.get(ws) ?? []), frame]);
			return true;
		});
		/** Each frame's messages, read as the client reads them: a change, or the name of another event. */
		const heard = (ws: WebSocket) =>
			got.get(ws)!.map((frame) =>
				(parseFrame(frame) as { messages: string[] }).messages.map((line) => {
					const event = readEventLine(line)!;
					const name = event[0];
					const data = decodePayload(eventPayload(event)) as never;
					if (name === 'session:changes') return (data as SessionChanges<unknown>).changes;
					if (name === 'session:connected') return [{ connected: data }];
					if (name === 'session:disconnected') return [{ disconnected: data }];
					return name;
				}),
			);
		const flat = (ws: WebSocket) => heard(ws).flat(2);
		expect(flat(old!)).toEqual([...changes.slice(0, 41), 'session:update', changes[41]!]);
		// The joiner skips what its list had and its own join.
		expect(flat(joiner!)).toEqual([...changes.slice(33, 41), 'session:update', changes[41]!]);
		// Several frames; in each, no two messages of changes in a row (neighbours are one message)
		// but around the annotated one, which cannot be pasted.
		expect(got.get(old!)!.length).toBeGreaterThan(2);
		const annotated = (m: unknown) => Array.isArray(m) && m.length === 1 && 'connected' in m[0] && (m[0].connected.meta as { at?: unknown }).at !== undefined;
		for (const messages of heard(old!)) {
			for (let i = 1; i < messages.length; i++) {
				const [a, b] = [messages[i - 1], messages[i]];
				if (Array.isArray(a) && Array.isArray(b)) expect(annotated(a) || annotated(b)).toBe(true);
			}
		}
		// The change after the update has no neighbour in its frame: it goes as the event it is.
		expect(
			got
				.get(old!)!
				.at(-1)!
				.endsWith(eventLine('session:disconnected', encodePayload(changes[41]!.disconnected))),
		).toBe(true);
		// A frame of pasted changes is what the encoder makes of the same payload.
		const first = heard(old!)[0]![0] as SessionChange<unknown>[];
		expect(first.length).toBeGreaterThan(1);
		expect(got.get(old!)![0]!.split('\n')[1]).toBe(eventLine('session:changes', encodePayload({ changes: first })));
		expect(queue.empty).toBe(true);
	});

	test('count-only changes reach each socket only when nothing it hears later says the counts again', () => {
		const queue = new PresenceQueue(60_000, () => {});
		const [old, joiner] = [{}, {}] as unknown as WebSocket[];
		const update = (users: number, extra = {}) => eventLine('session:update', encodePayload({ users, sessions: users, ...extra }));
		queue.add(update(2), undefined, true);
		queue.listed(joiner!);
		queue.add(update(3, { joined: { ws_session_id: 's3', meta: {} } }));
		queue.add(update(4), undefined, true);
		queue.add(update(5), joiner, true);
		const got = new Map<WebSocket, string[]>();
		queue.drain([old!, joiner!], (ws, frame) => (got.set(ws, (parseFrame(frame) as { messages: string[] }).messages), true));
		expect(got.get(old!)).toEqual([update(3, { joined: { ws_session_id: 's3', meta: {} } }), update(5)]);
		// The joiner's list counted itself: of what came after it, the last it hears is the 4.
		expect(got.get(joiner!)).toEqual([update(3, { joined: { ws_session_id: 's3', meta: {} } }), update(4)]);
	});

	test('a storm of joiners in one delay: each hears what it did not know, its own join and repeated counts left out', () => {
		const queue = new PresenceQueue(60_000, () => {});
		const update = (users: number, extra = {}) => eventLine('session:update', encodePayload({ users, sessions: users, ...extra }));
		const old = {} as WebSocket;
		/** What was queued, and the rule each socket's share follows, written out plainly. */
		const queued: { message: string; countOnly: boolean; by?: WebSocket }[] = [];
		const joiners: { ws: WebSocket; from: number }[] = [];
		for (let i = 0; i < 300; i++) {
			const ws = {} as WebSocket;
			queue.listed(ws);
			joiners.push({ ws, from: queued.length });
			// Every 37th join enters the window (a message of its own); the rest change only the counts.
			const entered = i % 37 === 0;
			const message = entered ? update(i, { joined: { ws_session_id: `s${i}`, meta: {} } }) : update(i);
			queue.add(message, ws, !entered);
			queued.push({ message, countOnly: !entered, by: ws });
			// A leave now and then, from nobody listed in this delay.
			if (i % 50 === 20) {
				const leave = update(i - 1, { left: `s${i - 40}` });
				queue.add(leave);
				queued.push({ message: leave, countOnly: false });
			}
		}
		const expected = (from: number, ws?: WebSocket) => {
			const self = queued.findIndex((q) => q.by === ws && ws !== undefined);
			const last = self === queued.length - 1 ? queued.length - 2 : queued.length - 1;
			return queued.filter((q, i) => i >= from && i !== self && !(q.countOnly && i < last)).map((q) => q.message);
		};
		const got = new Map<WebSocket, string[]>();
		queue.drain([old, ...joiners.map((j) => j.ws)], (ws, frame) => {
			got.set(ws, [...(got.get(ws) ?? []), ...(parseFrame(frame) as { messages: string[] }).messages]);
			return true;
		});
		expect(got.get(old)).toEqual(expected(0));
		for (const { ws, from } of joiners) expect(got.get(ws) ?? []).toEqual(expected(from, ws));
		// The last joiner's list had everything but its own join: it hears nothing. The one before it
		// hears the last counts alone, and the first joiner every window change and leave, then those.
		expect(got.get(joiners.at(-1)!.ws)).toBeUndefined();
		expect(got.get(joiners.at(-2)!.ws)).toEqual([update(299)]);
		expect(got.get(joiners[0]!.ws)!.length).toBe(8 + 6 + 1);
	});

	test('counts wait longer the bigger the room; anything else queued brings them forward', async () => {
		expect(countsDelayMs(500)).toBe((500 * 1000) / COUNT_FRAMES_PER_SECOND);
		expect(countsDelayMs(10)).toBeLessThan(countsDelayMs(500));
		expect(countsDelayMs(1_000_000)).toBe(MAX_COUNTS_DELAY_MS);
		const due = () => Promise.withResolvers<number>();
		const update = (users: number, extra = {}) => eventLine('session:update', encodePayload({ users, sessions: users, ...extra }));
		const start = Date.now();
		// A room so big its counts wait the longest, next to a small one with the same delay.
		let big = due();
		const bigQueue = new PresenceQueue(
			20,
			() => big.resolve(Date.now() - start),
			() => 1_000_000,
		);
		const small = due();
		const smallQueue = new PresenceQueue(
			20,
			() => small.resolve(Date.now() - start),
			() => 2,
		);
		bigQueue.add(update(2), undefined, true);
		smallQueue.add(update(2), undefined, true);
		await small.promise;
		let bigFired = false;
		void big.promise.then(() => (bigFired = true));
		await Promise.resolve();
		expect(bigFired).toBe(false);
		// A member entering the window is not a count: it goes within the delay, the counts with it.
		bigQueue.add(update(3, { joined: { ws_session_id: 's3', meta: {} } }));
		expect(await big.promise).toBeLessThan(MAX_COUNTS_DELAY_MS / 2);
		// Drained, the next count waits the long delay again; a leave after it brings it forward.
		bigQueue.drain([], () => true);
		big = due();
		bigQueue.add(update(2), undefined, true);
		bigQueue.add(update(1, { left: 's3' }));
		const at = Date.now() - start;
		expect((await big.promise) - at).toBeLessThan(MAX_COUNTS_DELAY_MS / 2);
	});

	test('a socket whose send fails gets nothing more and is reported once', () => {
		const queue = new PresenceQueue(60_000, () => {}, undefined, 512);
		const ws = {} as WebSocket;
		for (let i = 0; i < 20; i++) queue.add(eventLine('session:disconnected', encodePayload({ ws_session_id: `s${i}`, meta: { pad: 'z'.repeat(100) } })));
		let sends = 0;
		expect(queue.drain([ws], () => (sends++, false))).toEqual([ws]);
		expect(sends).toBe(1);
	});
});

describe('a room whose list needs many frames', () => {
	test('every frame within the cap; one whole list, in join order, before connected; every join heard once', async () => {
		const room = freshRoom();
		// ~330 UTF-8 bytes of meta per session (é and 🙂 are 2 and 4 bytes): 300 sessions ≈ 100 KB of list.
		const meta = (user_id: string): TestMeta => ({ user_id, pad: `é🙂 "q" \\ ${user_id} `.repeat(12) });
		const sizes: number[] = [];
		const listFrames = new Map<Probe, number>();
		const join = async (user_id: string) => {
			const probe = new Probe(worker.connectUrl(room, meta(user_id)));
			listFrames.set(probe, 0);
			// Added in the tick the socket is made: no frame can arrive before it.
			probe.conn.socket.addEventListener('message', (e) => {
				const frame = String(e.data);
				sizes.push(new TextEncoder().encode(frame).byteLength);
				if (frame.includes('"session:list"')) listFrames.set(probe, listFrames.get(probe)! + 1);
			});
			await probe.conn.opened;
			probe.id = (await probe.next('session:list', 30_000)).sessions.at(-1).ws_session_id;
			return probe;
		};
		// A storm: joins close together, so presence batches grow past one frame.
		const crowd = await Promise.all(Array.from({ length: 300 }, (_, i) => join(`u${i}`)));

		// The app-level client joins last and gets the largest list.
		const client = new WebsocketClient<TestMeta, TestEvents, TestApi>({ WebSocket, url: (r) => worker.connectUrl(r, meta('client')), random: noJitter });
		const lists: Array<{ count: number; status: string }> = [];
		const order: string[] = [];
		client.on('*', (e) => order.push(e.event));
		client.on('session:list', (data) => lists.push({ count: data.sessions.length, status: client.status }));
		let sessionsWhenConnected = -1;
		client.on('ws:connected', () => (sessionsWhenConnected = client.sessions.length));
		await client.connect(room);
		const late = await join('late');

		const clientSynced = new Promise((resolve) => client.once('chat:message', resolve));
		await worker.rpc(room, 'broadcast', 'chat:message', { text: 'sync' }); // flushes pending presence first
		const everyone = [...crowd, late];
		for (const p of everyone) await p.next('chat:message', 30_000);
		await clientSynced;

		const sessions = await worker.rpc<Array<{ ws_session_id: string; connected_at: number }>>(room, 'getSessions');
		expect(sessions).toHaveLength(302);

		// Every frame the room sent (lists, presence, replies, events) is within the cap.
		expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_PUSH_FRAME_BYTES);
		// The last joiners' lists really were split, and the app saw each one once, whole.
		expect(listFrames.get(late)!).toBeGreaterThan(10);
		expect(late.names().filter((n) => n === 'session:list')).toHaveLength(1);
		expect(late.names()[0]).toBe('session:list');
		const lateList = late.events[0]!.data.sessions as Array<{ ws_session_id: string; meta: TestMeta }>;
		expect(lateList.map((s) => s.ws_session_id)).toEqual(sessions.map((s) => s.ws_session_id));
		expect(lateList.at(-1)!.meta).toEqual(meta('late'));
		const at = new Map(sessions.map((s) => [s.ws_session_id, s.connected_at]));
		const times = lateList.map((s) => at.get(s.ws_session_id)!);
		expect(times).toEqual([...times].sort((x, y) => x - y));

		// The client: one list of everyone before it was connected, nothing partial.
		expect(lists).toEqual([{ count: 301, status: 'connecting' }]);
		expect(order.indexOf('session:list')).toBeLessThan(order.indexOf('ws:connected'));
		expect(sessionsWhenConnected).toBe(301);
		expect(client.sessions.map((s) => s.ws_session_id)).toEqual(sessions.map((s) => s.ws_session_id));

		// Each socket's view, rebuilt from what it heard: every session exactly once.
		const ids = sessions.map((s) => s.ws_session_id).sort();
		for (const p of everyone) {
			expect(heardSessions(p)).toEqual(ids);
			expect(p.names().filter((n) => n === 'session:list')).toHaveLength(1);
		}
		client.disconnect();
		await Promise.all(everyone.map((p) => p.close()));
	}, 120_000);
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

describe('what a joining socket is sent before its 101', () => {
	test('goes out after it, in order: the list first, then what onConnect sent, then presence', async () => {
		const room = freshRoom();
		const a = await Probe.join(worker, room, { user_id: 'ann' });
		const b = await Probe.join(worker, room, { user_id: 'bob', greet: true });
		// Held until the 101 was out, then sent as it was sent: nothing overtook the list.
		expect(b.events[0]!.name).toBe('session:list');
		const hellos = [await b.next('hello'), await b.next('hello'), await b.next('hello')];
		expect(hellos).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
		expect(b.names().slice(0, 4)).toEqual(['session:list', 'hello', 'hello', 'hello']);
		// The room's broadcast from onConnect reached the others too, before the join.
		expect(await a.next('hello')).toEqual({ n: 2 });
		expect((await a.next('session:connected')).meta.user_id).toBe('bob');
		// And the socket answers calls as soon as it is open.
		expect(await b.rpc.add(2, 2)).toBe(4);
		await Promise.all([a.close(), b.close()]);
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

describe('utf8Length', () => {
	test('counts UTF-8 bytes, short and past its scratch buffer', () => {
		for (const text of ['', 'abc', 'é', '€', '😀', 'a€😀'.repeat(5000), 'x'.repeat(30_000), '€'.repeat(21_846)]) {
			expect(utf8Length(text)).toBe(new TextEncoder().encode(text).byteLength);
		}
	});
});
