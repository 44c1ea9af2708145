/**
 * A room over 3 shards (`static options.shards`, tests/do/shards-worker.ts) in workerd, over real
 * sockets: sockets land on different shards through the real handoff, and what is sent to the room
 * from a browser event, a `RoomApi` method or server code's Workers RPC on any shard reaches every
 * socket exactly once, in order per sender; presence counts are the room's total; shards rebuilt after
 * eviction still relay and still know the room's counts.
 */
import { describe, expect, test } from 'bun:test';
import { resolveOptions } from '../../do/options.js';
import { pickShard, readShardName, shardName } from '../../rpc/shards.js';
import type { PresenceUpdate, PresenceWindow, SessionInfo } from '../../rpc/types.js';
import { joinInTurn, Probe } from '../support/probe.js';
import { roomWorkerPerFile } from '../support/workerd.js';
import type { TestMeta } from '../worker/index.js';
/** As tests/do/shards-worker.ts's ShardedRoom. */
const SHARDS = 3;

const EVICTION_IDLE_MS = 12_000;
const idle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const rooms = roomWorkerPerFile(
	'shards',
	{
		durableObjects: {
			ROOM: { className: 'ShardedRoom', useSQLite: true },
			BATCHED: { className: 'BatchedShardedRoom', useSQLite: true },
		},
	},
	'tests/do/shards-worker.ts',
	'shards-worker.js',
);

/** Calls a public method of shard `index` of `room` through Workers RPC. */
async function onShard<T>(room: string, index: number, method: string, ...args: unknown[]): Promise<T> {
	const res = await fetch(`${rooms.worker.origin}/shard/${encodeURIComponent(room)}/${index}`, { method: 'POST', body: JSON.stringify({ method, args }) });
	if (!res.ok) throw new Error(`${method} on shard ${index} failed: ${res.status} ${await res.text()}`);
	return ((await res.json()) as { result: T }).result;
}

/** `perShard` user ids for each shard, as the handle routes them (by `meta.user_id`). */
function usersByShard(perShard: number): string[][] {
	const users: string[][] = Array.from({ length: SHARDS }, () => []);
	for (let i = 0; users.some((u) => u.length < perShard); i++) {
		const shard = users[pickShard({ user_id: `user-${i}` }, SHARDS)]!;
		if (shard.length < perShard) shard.push(`user-${i}`);
	}
	return users;
}

/** Waits until `p` has heard counts of `sessions` (from its list or a later update). */
async function untilCount(p: Probe, sessions: number): Promise<void> {
	const last = () => {
		for (let i = p.events.length - 1; i >= 0; i--) {
			const { name, data } = p.events[i]!;
			if (name === 'session:update') return (data as PresenceUpdate<TestMeta>).sessions;
			if (name === 'session:list') return (data as { window: PresenceWindow }).window.sessions;
		}
		return -1;
	};
	const deadline = Date.now() + 5_000;
	while (last() !== sessions) {
		if (Date.now() > deadline) throw new Error(`counts stayed at ${last()}, expected ${sessions}`);
		await p.next('session:update', deadline - Date.now()).catch(() => undefined);
	}
}

/** Waits for `count` `chat:message` events on `p` and returns their texts, in arrival order. */
async function chat(p: Probe, count: number): Promise<string[]> {
	const texts = () => p.events.filter((e) => e.name === 'chat:message').map((e) => e.data.text as string);
	while (texts().length < count) await p.next('chat:message');
	return texts();
}

describe('the shards option', () => {
	test('1 by default; a sharded room needs its binding, gets window presence, and refuses full presence', () => {
		expect(resolveOptions({}).shards).toEqual({ count: 1 });
		expect(resolveOptions({}).presence).toBe('full');
		expect(resolveOptions({ shards: { count: 4, binding: 'WS' } }).presence).toEqual({ window: 50, pageSize: 100 });
		expect(() => resolveOptions({ shards: { count: 4 } })).toThrow('static options.shards.binding must name');
		expect(() => resolveOptions({ shards: { count: 0, binding: 'WS' } })).toThrow('static options.shards.count must be a whole number from 1 to 64');
		expect(() => resolveOptions({ shards: { count: 4, binding: 'WS' }, presence: 'full' })).toThrow("cannot use presence: 'full'");
	});

	test('shard names: shard 0 is the room itself; no room name a browser may ask for reads as a shard', () => {
		expect(shardName('lobby', 0)).toBe('lobby');
		expect(readShardName(shardName('lobby', 7))).toEqual({ room: 'lobby', index: 7 });
		expect(readShardName('lobby')).toEqual({ room: 'lobby', index: 0 });
	});
});

describe('one room over 3 shards', () => {
	test('sockets spread over the shards; everything sent to the room reaches every socket once, in order per sender; counts are the total', async () => {
		const room = `sharded-${Date.now()}`;
		const users = usersByShard(2);
		// One at a time (and by shard in turn), as a crowd would arrive.
		const order = [0, 1, 2, 0, 1, 2].map((shard, i) => users[shard]![i < 3 ? 0 : 1]!);
		const probes = await joinInTurn(
			rooms.worker,
			room,
			order.map((user_id) => ({ user_id })),
		);
		for (const p of probes) p.id = (await p.rpc.whoami()).id;

		// Each shard holds exactly the users routed to it.
		for (let shard = 0; shard < SHARDS; shard++) {
			const sessions = await onShard<SessionInfo<TestMeta>[]>(room, shard, 'getSessions');
			expect(sessions.map((s) => s.meta.user_id).sort()).toEqual([...users[shard]!].sort());
		}

		// Presence: the last joiner's list counts the whole room; everyone converges on 6; the first
		// socket heard every other join, wherever it landed, once.
		const lastList = probes.at(-1)!.events[0]!.data as { window: PresenceWindow };
		expect(lastList.window).toMatchObject({ users: 6, sessions: 6 });
		for (const p of probes) await untilCount(p, 6);
		const joined = probes[0]!.events.filter((e) => e.name === 'session:update' && e.data.joined).map((e) => e.data.joined.ws_session_id);
		expect(joined.sort()).toEqual(
			probes
				.slice(1)
				.map((p) => p.id)
				.sort(),
		);

		// From a RoomApi method (two senders on different shards), from server code on shard 2 and on
		// the room's own stub (shard 0): four senders at once, each sending in turn.
		const [a, b] = [probes[0]!, probes[1]!];
		const senders: Record<string, (text: string) => Promise<unknown>> = {
			a: (text) => a.rpc.post(text),
			b: (text) => b.rpc.post(text),
			s: (text) => onShard(room, 2, 'broadcast', 'chat:message', { text, from: 'server' }),
			t: (text) => rooms.worker.rpc(room, 'broadcast', 'chat:message', { text, from: 'server' }),
		};
		await Promise.all([
			...Object.entries(senders).map(async ([name, send]) => {
				for (let i = 1; i <= 5; i++) await send(`${name}${i}`);
			}),
			// Five calls in one tick: one batch, whose five broadcasts are relayed back to back.
			...[1, 2, 3, 4, 5].map((i) => probes[3]!.rpc.post(`c${i}`)),
		]);
		for (const p of probes) {
			const texts = await chat(p, 25);
			for (const sender of ['a', 'b', 'c', 's', 't']) expect(texts.filter((t) => t[0] === sender)).toEqual([1, 2, 3, 4, 5].map((i) => `${sender}${i}`));
		}

		// From a browser event (onMessage broadcasts it to everyone but the sender).
		const c = probes[2]!;
		for (let i = 0; i < 3; i++) await c.conn.send('relay', { at: new Date(i), map: new Map(), set: new Set(), big: BigInt(i), nothing: undefined });
		for (const p of probes) {
			if (p === c) continue;
			for (let i = 0; i < 3; i++) expect((await p.next('rich')).big).toBe(BigInt(i));
		}
		// A last message from each origin: nothing arrived twice before it.
		await Promise.all([a.rpc.post('a-end'), b.rpc.post('b-end'), onShard(room, 2, 'broadcast', 'chat:message', { text: 's-end', from: 'server' })]);
		for (const p of probes) {
			const texts = await chat(p, 28);
			expect(texts.length).toBe(28);
			expect(new Set(texts).size).toBe(28);
			expect(p.events.filter((e) => e.name === 'rich').length).toBe(p === c ? 0 : 3);
		}

		// sendTo on any shard finds a user on another shard.
		const target = order[5]!;
		expect(await onShard(room, 0, 'sendTo', { user: target }, 'chat:message', { text: 'direct', from: 'server' })).toBe(0);
		expect((await chat(probes[5]!, 29)).at(-1)).toBe('direct');

		// An entity change recorded through the room's stub reaches sockets on every shard, filtered there.
		await rooms.worker.rpc(room, 'entityChanged', 'created', 'todo', 1, { title: 'everyone' });
		await rooms.worker.rpc(room, 'entityChanged', 'created', 'secret', 2, { title: 'only the boss' });
		await rooms.worker.rpc(room, 'entityChanged', 'created', 'todo', 3, { title: 'everyone again' });
		for (const p of probes) {
			expect((await p.next('entity:created')).id).toBe(1);
			expect((await p.next('entity:created')).id).toBe(3);
		}

		// A leave on one shard: everyone hears the new total and who left.
		await probes[4]!.close();
		for (const p of [...probes.slice(0, 4), probes[5]!]) {
			await untilCount(p, 5);
			expect(p.events.some((e) => e.name === 'session:update' && e.data.left === probes[4]!.id)).toBe(true);
		}
		// kick through the room's stub finds a session on another shard.
		expect(await rooms.worker.rpc(room, 'kick', probes[5]!.id)).toBe(true);
		expect((await probes[5]!.closed).code).toBe(4001);
		expect(await rooms.worker.rpc(room, 'kick', 'nobody')).toBe(false);
		await untilCount(probes[0]!, 4);
		await Promise.all(probes.slice(0, 4).map((p) => p.close()));
	}, 30_000);

	test('with presence gathered (presenceBatchMs 50): sockets joining at once all reach the total and hear no join twice', async () => {
		const room = `batched-${Date.now()}`;
		const users = usersByShard(3).flat();
		const probes = await Promise.all(users.map((user_id) => Probe.join(rooms.worker, room, { user_id })));
		for (const p of probes) p.id = (await p.rpc.whoami()).id;
		for (const p of probes) await untilCount(p, users.length);
		// A joiner's list is its own shard's window (5, which holds each shard's 3 sockets); joins on
		// any shard are announced to all. So each socket hears of every socket of its shard, and of no
		// socket twice, by list or by join.
		const shardOf = new Map(users.map((user_id, i) => [probes[i]!.id, pickShard({ user_id }, SHARDS)]));
		for (const p of probes) {
			const list = p.events.find((e) => e.name === 'session:list')!.data as { sessions: SessionInfo<TestMeta>[] };
			const heard = [
				...list.sessions.map((s) => s.ws_session_id),
				...p.events.filter((e) => e.name === 'session:update' && e.data.joined).map((e) => e.data.joined.ws_session_id as string),
			].filter((id) => id !== p.id);
			expect(new Set(heard).size).toBe(heard.length);
			const others = probes.filter((o) => o !== p).map((o) => o.id);
			expect(others).toEqual(expect.arrayContaining(heard));
			expect(heard).toEqual(expect.arrayContaining(others.filter((id) => shardOf.get(id) === shardOf.get(p.id))));
		}
		await Promise.all(probes.map((p) => p.close()));
	}, 30_000);

	test('shards rebuilt after eviction still relay, and a joiner still gets the room total', async () => {
		const room = `sharded-evict-${Date.now()}`;
		const users = usersByShard(1);
		const probes = await joinInTurn(
			rooms.worker,
			room,
			users.map(([user_id]) => ({ user_id: user_id! })),
		);
		for (const p of probes) await untilCount(p, 3);
		const before = await Promise.all([0, 1, 2].map((i) => onShard<{ instanceId: string }>(room, i, 'stats')));

		await idle(EVICTION_IDLE_MS);

		// A call on shard 1's socket wakes shard 1, which relays to shards 0 and 2.
		await probes[1]!.rpc.post('after');
		for (const p of probes) expect((await p.next('chat:message')).text).toBe('after');
		const after = await Promise.all([0, 1, 2].map((i) => onShard<{ instanceId: string }>(room, i, 'stats')));
		for (let i = 0; i < SHARDS; i++) expect(after[i]!.instanceId).not.toBe(before[i]!.instanceId);

		// The rebuilt shards kept their peers' counts: a new socket sees the whole room.
		const late = await Probe.join(rooms.worker, room, { user_id: users[0]![0]! + '-tab2' });
		expect((late.events[0]!.data as { window: PresenceWindow }).window.sessions).toBe(4);
		for (const p of probes) await untilCount(p, 4);
		await Promise.all([...probes, late].map((p) => p.close()));
	}, 40_000);
});
