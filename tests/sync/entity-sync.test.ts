import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { ChangeFeed } from '../../client/change-feed.js';
import { RoomConnection } from '../../client/connection.js';
import type { EntityChangeInput } from '../../rpc/types.js';
import { Probe } from '../support/probe.js';
import { startRoomWorker, type RoomWorker } from '../support/workerd.js';

let worker: RoomWorker;
beforeAll(async () => (worker = await startRoomWorker()));
afterAll(() => worker.dispose());

let rooms = 0;
const freshRoom = () => `sync-${++rooms}-${Date.now()}`;

/** A client's local copy of the room's entities, kept by a ChangeFeed over real sockets. */
class Replica {
	readonly feed = new ChangeFeed();
	readonly store = new Map<string, unknown>();
	/** The sequence number of every change applied, in the order applied. */
	readonly applied: number[] = [];
	readonly received: string[] = [];
	resyncs = 0;
	conn?: RoomConnection;
	#wake = () => {};

	constructor(
		readonly room: string,
		readonly meta: { user_id: string },
	) {
		this.feed.reset(room);
		this.feed.follow(false);
		this.feed.subscribe((change) => {
			this.applied.push(this.feed.position);
			apply(this.store, change);
		});
		this.feed.onResync(() => this.resyncs++);
	}

	async connect(): Promise<void> {
		this.conn = new RoomConnection(`${worker.connectUrl(this.room, this.meta)}&since=${this.feed.since}`, {
			onEvent: (name, data) => {
				this.received.push(name);
				this.feed.receive(name, data);
				this.#wake();
			},
		});
		await this.conn.opened;
		await this.until(() => this.feed.caughtUp);
	}

	async disconnect(): Promise<void> {
		const closed = new Promise((resolve) => this.conn!.socket.addEventListener('close', resolve, { once: true }));
		this.conn!.close();
		await closed;
		this.feed.disconnected();
	}

	async until(done: () => boolean, timeoutMs = 10_000): Promise<void> {
		const deadline = Date.now() + timeoutMs;
		while (!done()) {
			if (Date.now() > deadline) throw new Error(`replica not there in ${timeoutMs} ms (at ${this.feed.position})`);
			await new Promise<void>((resolve) => {
				const timer = setTimeout(resolve, 200);
				this.#wake = () => (clearTimeout(timer), resolve());
			});
		}
	}
}

function apply(store: Map<string, unknown>, change: { type: string; entity_type: string; id: string | number; data?: unknown }) {
	const key = `${change.entity_type}/${change.id}`;
	if (change.type === 'delete') store.delete(key);
	else store.set(key, change.data);
}

const write = (room: string, changes: EntityChangeInput[]) => worker.rpc<number[]>(room, 'entitiesChanged', changes);

/** A tiny seeded PRNG, so a failing run can be replayed. */
function random(seed: number) {
	return () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

describe('entity changes', () => {
	test('live changes carry room and sequence; own catch-up position starts at the head', async () => {
		const room = freshRoom();
		await write(room, [{ action: 'created', entity_type: 'todo', id: 1, data: { title: 'before' } }]);
		const a = new Replica(room, { user_id: 'ann' });
		await a.connect();
		expect(a.feed.position).toBe(1); // joined at the head: the past comes from the database, not the feed
		const probe = await Probe.join(worker, room, { user_id: 'bob' });
		expect(await worker.rpc(room, 'entityChanged', 'updated', 'todo', 1, { title: 'after' }, { title: 'after' })).toBe(2);
		expect(await probe.next('entity:updated')).toEqual({ room, seq: 2, entity_type: 'todo', id: 1, data: { title: 'after' }, sparse: { title: 'after' } });
		await a.until(() => a.feed.position === 2);
		expect(a.store.get('todo/1')).toEqual({ title: 'after' });
		expect(await worker.rpc(room, 'entityChanged', 'deleted', 'todo', 1)).toBe(3);
		expect(await probe.next('entity:deleted')).toEqual({ room, seq: 3, entity_type: 'todo', id: 1 });
		await a.until(() => a.feed.position === 3);
		expect(a.store.has('todo/1')).toBe(false);
		await Promise.all([a.disconnect(), probe.close()]);
	});

	test('a reconnect replays exactly what was missed, in order, before new changes', async () => {
		const room = freshRoom();
		const a = new Replica(room, { user_id: 'ann' });
		await a.connect();
		await write(room, [{ action: 'created', entity_type: 'todo', id: 'a', data: { n: 0 } }]);
		await a.until(() => a.feed.position === 1);
		await a.disconnect();
		await write(
			room,
			[1, 2, 3, 4, 5].map((n) => ({ action: 'updated', entity_type: 'todo', id: 'a', data: { n } })),
		);
		await a.connect();
		expect(a.applied).toEqual([1, 2, 3, 4, 5, 6]);
		expect(a.store.get('todo/a')).toEqual({ n: 5 });
		expect(a.received.slice(-6)).toEqual([...Array(5).fill('entity:updated'), 'entity:synced']);
		await a.disconnect();
	});

	test('a gap older than the log → resync, then correct state from then on', async () => {
		const room = freshRoom();
		const a = new Replica(room, { user_id: 'ann' });
		await a.connect();
		await a.disconnect();
		// 1200 changes while away: the log keeps 1000.
		const burst = Array.from({ length: 1200 }, (_, i): EntityChangeInput => ({ action: 'updated', entity_type: 'counter', id: 'c', data: { n: i } }));
		await write(room, burst.slice(0, 600));
		await write(room, burst.slice(600));
		await a.connect();
		expect(a.resyncs).toBe(1);
		expect(a.applied).toEqual([]);
		expect(a.feed.position).toBe(1200);
		// What the app refetches after a resync is the server's state; changes after it apply as usual.
		a.store.set('counter/c', { n: 1199 });
		await write(room, [{ action: 'updated', entity_type: 'counter', id: 'c', data: { n: 1200 } }]);
		await a.until(() => a.feed.position === 1201);
		expect(a.store.get('counter/c')).toEqual({ n: 1200 });
		await a.disconnect();
	});

	test('filterEntityChange: false withholds live and in catch-up; a throw withholds from that session only', async () => {
		const room = freshRoom();
		const boss = await Probe.join(worker, room, { user_id: 'boss' });
		const victim = new Replica(room, { user_id: 'victim' });
		await victim.connect();
		const staff = new Replica(room, { user_id: 'staff' });
		await staff.connect();
		await write(room, [
			{ action: 'created', entity_type: 'secret', id: 1, data: { pin: 1234 } },
			{ action: 'created', entity_type: 'boom', id: 2, data: {} },
			{ action: 'created', entity_type: 'todo', id: 3, data: {} },
		]);
		expect((await boss.next('entity:created')).entity_type).toBe('secret');
		expect((await boss.next('entity:created')).entity_type).toBe('boom');
		expect((await boss.next('entity:created')).entity_type).toBe('todo');
		await victim.until(() => victim.feed.position === 3);
		await staff.until(() => staff.feed.position === 3);
		expect([...victim.store.keys()]).toEqual(['todo/3']);
		expect([...staff.store.keys()]).toEqual(['boom/2', 'todo/3']);

		// Catch-up applies the same filter.
		await staff.disconnect();
		await write(room, [
			{ action: 'updated', entity_type: 'secret', id: 1, data: { pin: 0 } },
			{ action: 'updated', entity_type: 'todo', id: 3, data: { done: true } },
		]);
		await staff.connect();
		expect(staff.feed.position).toBe(5);
		expect(staff.store.get('todo/3')).toEqual({ done: true });
		expect(staff.store.has('secret/1')).toBe(false);
		await Promise.all([boss.close(), victim.disconnect(), staff.disconnect()]);
	});

	test('a since that is not a change number gets entity:resync, not a replay from 0', async () => {
		const room = freshRoom();
		await write(room, [{ action: 'created', entity_type: 't', id: 1 }]);
		for (const since of ['', '1e0', 'abc', '-2']) {
			const probe = new Probe(`${worker.connectUrl(room, { user_id: 'ann' })}&since=${since}`);
			expect(await probe.next('entity:resync')).toEqual({ room, head: 1 });
			expect(probe.names()).not.toContain('entity:created');
			await probe.close();
		}
	});

	test('bad input from server code is refused clearly', async () => {
		const room = freshRoom();
		await expect(write(room, [{ action: 'exploded' as never, entity_type: 't', id: 1 }])).rejects.toThrow(/Unknown entity action/);
		expect(await write(room, [{ action: 'created', entity_type: 't', id: 1 }])).toEqual([1]);
	});
});

test('2000 changes with random disconnects and one eviction: the replica ends equal to the server, each change applied once, in order', async () => {
	const room = freshRoom();
	const rand = random(20261129);
	const truth = new Map<string, unknown>();
	const replica = new Replica(room, { user_id: 'ann' });
	await replica.connect();

	let written = 0;
	let online = true;
	let evicted = false;
	while (written < 2000) {
		const size = Math.min(2000 - written, 1 + Math.floor(rand() * 20));
		const changes = Array.from({ length: size }, (): EntityChangeInput => {
			const id = Math.floor(rand() * 40);
			const roll = rand();
			const action = roll < 0.15 ? 'deleted' : roll < 0.45 ? 'created' : 'updated';
			return action === 'deleted'
				? { action, entity_type: 'todo', id }
				: { action, entity_type: 'todo', id, data: { title: `t${id}`, v: written, done: rand() < 0.5 } };
		});
		const seqs = await write(room, changes);
		changes.forEach((c, i) => {
			expect(seqs[i]).toBe(written + i + 1);
			apply(truth, { type: c.action === 'deleted' ? 'delete' : 'update', entity_type: c.entity_type, id: c.id, data: c.data });
		});
		written += size;

		if (!evicted && written >= 1000) {
			// Idle past eviction with the replica connected: the next write wakes a fresh instance,
			// which must continue the numbering from storage.
			await replica.until(() => replica.feed.position === written);
			const { instanceId } = await worker.rpc<{ instanceId: string }>(room, 'stats');
			await new Promise((resolve) => setTimeout(resolve, 12_000));
			const before = written;
			evicted = true;
			const [seq] = await write(room, [{ action: 'updated', entity_type: 'todo', id: 0, data: { title: 't0', v: before, done: true } }]);
			expect(seq).toBe(before + 1);
			expect((await worker.rpc<{ instanceId: string }>(room, 'stats')).instanceId).not.toBe(instanceId);
			apply(truth, { type: 'update', entity_type: 'todo', id: 0, data: { title: 't0', v: before, done: true } });
			written += 1;
		}
		if (online && rand() < 0.12) {
			await replica.disconnect();
			online = false;
		} else if (!online && rand() < 0.35) {
			await replica.connect();
			online = true;
		}
	}
	if (!online) await replica.connect();
	await replica.until(() => replica.feed.position === written);
	expect(evicted).toBe(true);
	expect(replica.resyncs).toBe(0);
	expect(replica.applied).toEqual(Array.from({ length: written }, (_, i) => i + 1));
	expect(Object.fromEntries(replica.store)).toEqual(Object.fromEntries(truth));
	await replica.disconnect();
}, 90_000);
