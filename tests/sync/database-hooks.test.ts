/**
 * `ws.databaseHooks()` on the real `WebsocketClient`, against the room in workerd: the contract a
 * `DatabaseClient` consumes, across a dropped socket and a room switch.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import type { DatabaseEntityChange } from '../../client/change-feed.js';
import { WebsocketClient } from '../../client/websocket-client.svelte.js';
import type { EntityChangeInput } from '../../rpc/types.js';
import { noJitter, whenTrue } from '../support/clients.js';
import { ManualClock } from '../support/manual-clock.js';
import { until } from '../support/runes.svelte.js';
import { startRoomWorker, type RoomWorker } from '../support/workerd.js';
import type { TestApi, TestEvents, TestMeta } from '../worker/index.js';

let worker: RoomWorker;
beforeAll(async () => (worker = await startRoomWorker()));
afterAll(() => worker.dispose());

/** Bun's WebSocket, remembering the last one opened so a test can drop it like a lost network. */
class TrackedWebSocket extends WebSocket {
	static last: TrackedWebSocket | undefined;
	constructor(url: string | URL, protocols?: string | string[]) {
		super(url, protocols);
		TrackedWebSocket.last = this;
	}
}

const write = (room: string, changes: EntityChangeInput[]) => worker.rpc<number[]>(room, 'entitiesChanged', changes);
const todo = (id: number, title: string): EntityChangeInput => ({ action: 'updated', entity_type: 'todo', id, data: { title } });

test('databaseHooks: exactly-once changes and isLive across a dropped socket and a room switch', async () => {
	const room = `hooks-${Date.now()}`;
	const other = `${room}-other`;
	const clock = new ManualClock();
	const ws = new WebsocketClient<TestMeta, TestEvents, TestApi>({
		WebSocket: TrackedWebSocket as typeof WebSocket,
		url: (r) => worker.connectUrl(r, { user_id: 'ann' }),
		clock,
		random: noJitter,
	});
	const hooks = ws.databaseHooks();
	const changes: DatabaseEntityChange[] = [];
	const unsubscribe = hooks.onSubscribe((change) => changes.push(change));
	const seqs: number[] = [];
	ws.on('entity:updated', (e) => seqs.push(e.seq));
	try {
		expect(hooks.isLive()).toBe(false);
		await write(room, [todo(1, 'before we joined')]);
		await ws.connect(room);
		await whenTrue(ws, () => hooks.isLive(), 'caught up at the head');
		expect(changes).toEqual([]); // the past comes from the database, not the feed

		await write(room, [todo(1, 'live')]);
		await whenTrue(ws, () => changes.length === 1, 'the live change');
		expect(changes[0]).toEqual({ type: 'update', entity_type: 'todo', id: 1, data: { title: 'live' } });

		// The network drops: not live; what happens meanwhile is replayed on the next socket.
		TrackedWebSocket.last!.close(1000, 'network went away');
		await until(() => ws.status === 'reconnecting', 'noticed the drop');
		expect(hooks.isLive()).toBe(false);
		await write(room, [todo(1, 'missed 1'), todo(2, 'missed 2'), { action: 'deleted', entity_type: 'todo', id: 2 }]);
		clock.advance(ws.nextRetry!.at - clock.now());
		await whenTrue(ws, () => hooks.isLive(), 'reconnected and caught up');
		expect(changes.slice(1)).toEqual([
			{ type: 'update', entity_type: 'todo', id: 1, data: { title: 'missed 1' } },
			{ type: 'update', entity_type: 'todo', id: 2, data: { title: 'missed 2' } },
			{ type: 'delete', entity_type: 'todo', id: 2 },
		]);
		expect(seqs).toEqual([2, 3, 4]); // listeners see each change once too (5 was a delete)

		// A room switch starts a new feed; the old room's changes no longer arrive.
		await ws.connect(other);
		await whenTrue(ws, () => hooks.isLive(), 'caught up in the other room');
		await write(room, [todo(1, 'old room')]);
		await write(other, [todo(9, 'new room')]);
		await whenTrue(ws, () => changes.length === 5, 'the new room change');
		expect(changes[4]).toEqual({ type: 'update', entity_type: 'todo', id: 9, data: { title: 'new room' } });

		unsubscribe();
		await write(other, [todo(9, 'after unsubscribe')]);
		await whenTrue(ws, () => seqs.length === 5, 'the event still reaches listeners');
		expect(seqs).toEqual([2, 3, 4, 1, 2]);
		expect(changes).toHaveLength(5);
		ws.disconnect();
		expect(hooks.isLive()).toBe(false);
	} finally {
		ws.destroy();
	}
}, 30_000);

test('connect(room, { since }) replays what changed between the page load and the socket', async () => {
	const room = `hooks-since-${Date.now()}`;
	await write(room, [todo(1, 'a'), todo(2, 'b')]);
	// The load function: the head first, then the data (here: the test's knowledge of it).
	const head = await worker.rpc<number>(room, 'changeHead');
	expect(head).toBe(2);
	// Changes land after the load and before the socket.
	await write(room, [todo(1, 'a2'), { action: 'deleted', entity_type: 'todo', id: 2 }]);

	const ws = new WebsocketClient<TestMeta, TestEvents, TestApi>({
		WebSocket,
		url: (r) => worker.connectUrl(r, { user_id: 'ann' }),
		random: noJitter,
	});
	const hooks = ws.databaseHooks();
	const changes: DatabaseEntityChange[] = [];
	hooks.onSubscribe((change) => changes.push(change));
	try {
		await ws.connect(room, { since: head });
		await whenTrue(ws, () => hooks.isLive(), 'caught up');
		expect(changes).toEqual([
			{ type: 'update', entity_type: 'todo', id: 1, data: { title: 'a2' } },
			{ type: 'delete', entity_type: 'todo', id: 2 },
		]);
		expect(() => ws.connect(room, { since: -5 })).toThrow(RangeError);
	} finally {
		ws.destroy();
	}
});
