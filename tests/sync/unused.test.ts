/**
 * Entity sync costs nothing unless the app uses it, against the room in workerd: a client that never
 * follows entity changes asks for no catch-up (`?since=`) and gets no `entity:synced`, and a room
 * whose server code never calls `entityChanged` creates no change-log table. Following late, on a
 * socket (direct or the SharedWorker's) that asked for nothing, still delivers every change from then
 * on, across a drop; where the feed cannot name what a drop made it miss, it says `entity:resync`.
 *
 * The SharedWorker's hub runs in-process here, each tab reaching it over a `MessageChannel` (as in
 * tests/client/shared.test.ts).
 */
import { afterEach, describe, expect, test } from 'bun:test';
import type { DatabaseEntityChange } from '../../client/change-feed.js';
import { SharedHub } from '../../client/shared/hub.js';
import type { OpenPort } from '../../client/shared/port-transport.js';
import { WebsocketClient, type WebsocketClientOptions } from '../../client/websocket-client.svelte.js';
import { PING, PONG } from '../../rpc/frame.js';
import type { EntityChangeInput } from '../../rpc/types.js';
import { noJitter, recordEvents, whenTrue } from '../support/clients.js';
import { ManualClock } from '../support/manual-clock.js';
import { until } from '../support/runes.svelte.js';
import { roomWorkerPerFile } from '../support/workerd.js';
import type { TestApi, TestEvents, TestMeta } from '../worker/index.js';

const rooms = roomWorkerPerFile('unused');
const { freshRoom } = rooms;

const cleanup: Array<() => void> = [];
afterEach(() => {
	for (const done of cleanup.splice(0).reverse()) done();
});

/** Bun's WebSocket, remembering every one opened (its URL) so a test can read it or drop it. */
class TrackedWebSocket extends WebSocket {
	static opened: TrackedWebSocket[] = [];
	readonly opened: string;
	constructor(url: string | URL, protocols?: string | string[]) {
		super(url, protocols);
		this.opened = String(url);
		TrackedWebSocket.opened.push(this);
	}
	static last(): TrackedWebSocket {
		return TrackedWebSocket.opened.at(-1)!;
	}
}

const sinceOf = (socket: TrackedWebSocket) => new URL(socket.opened).searchParams.get('since');
const write = (room: string, changes: EntityChangeInput[]) => rooms.worker.rpc<number[]>(room, 'entitiesChanged', changes);
const todo = (id: number): EntityChangeInput => ({ action: 'created', entity_type: 'todo', id, data: { title: `t${id}` } });
const hasChangeLog = async (room: string) => (await rooms.worker.rpc<string[]>(room, 'tables')).includes('_ws_changes');
const entityEvents = (seen: Array<{ event: string }>) => seen.map((e) => e.event).filter((name) => name.startsWith('entity:'));

type Client = WebsocketClient<TestMeta, TestEvents, TestApi>;

function client(options: WebsocketClientOptions<TestApi> = {}): Client {
	const ws = new WebsocketClient<TestMeta, TestEvents, TestApi>({
		WebSocket: TrackedWebSocket as typeof WebSocket,
		url: (room) => rooms.worker.connectUrl(room, { user_id: 'ann' }),
		random: noJitter,
		...options,
	});
	cleanup.push(() => ws.destroy());
	return ws;
}

/** Follows `ws`'s change feed the way a `DatabaseClient` does; returns what it applied. */
function follow(ws: Client): { changes: DatabaseEntityChange[]; ids: () => Array<string | number>; resyncs: number } {
	const seen = { changes: [] as DatabaseEntityChange[], ids: () => seen.changes.map((c) => c.id), resyncs: 0 };
	ws.databaseHooks().onSubscribe((change) => seen.changes.push(change));
	ws.on('entity:resync', () => seen.resyncs++);
	return seen;
}

describe('a client that never follows entity changes', () => {
	test('sends no since, gets no entity:synced, and leaves no change-log table; live changes still reach it', async () => {
		const room = freshRoom();
		const ws = client();
		const seen = recordEvents(ws);
		await ws.connect(room);
		// A round trip: anything the join sent has arrived before the answer.
		expect(await ws.rpc.echo('after the join')).toBe('after the join');
		expect(sinceOf(TrackedWebSocket.last())).toBeNull();
		expect(entityEvents(seen)).toEqual([]);
		expect(await hasChangeLog(room)).toBe(false);

		await write(room, [todo(1)]);
		await whenTrue(ws, () => entityEvents(seen).length === 1, 'the live change');
		expect(entityEvents(seen)).toEqual(['entity:created']);
		expect(await hasChangeLog(room)).toBe(true);
	});

	test('a room that never calls entityChanged has no table, even with followers and a page reading its head', async () => {
		const room = freshRoom();
		const clock = new ManualClock();
		const ws = client({ clock });
		const feed = follow(ws);
		const hooks = ws.databaseHooks();
		await ws.connect(room);
		await whenTrue(ws, () => hooks.isLive(), 'caught up at head 0');
		expect(sinceOf(TrackedWebSocket.last())).toBe('-1');
		expect(await rooms.worker.rpc<number>(room, 'changeHead')).toBe(0);

		TrackedWebSocket.last().close(1000, 'network went away');
		await until(() => ws.status === 'reconnecting', 'the drop');
		clock.advance(ws.nextRetry!.at - clock.now());
		await whenTrue(ws, () => hooks.isLive(), 'caught up again');
		expect(sinceOf(TrackedWebSocket.last())).toBe('0');
		expect(feed.resyncs).toBe(0);
		expect(await hasChangeLog(room)).toBe(false);
	});
});

describe('following late on a direct socket that asked for nothing', () => {
	/** Drops the client's socket, lets `whileDown` write, and reconnects. */
	async function drop(ws: Client, clock: ManualClock, whileDown: () => Promise<unknown>): Promise<void> {
		TrackedWebSocket.last().close(1000, 'network went away');
		await until(() => ws.status === 'reconnecting', 'the drop');
		await whileDown();
		clock.advance(ws.nextRetry!.at - clock.now());
		await until(() => ws.status === 'connected', 'reconnected');
	}

	/** A client on a manual clock (what it hears recorded), joined to a fresh room; `following()` starts its feed. */
	async function joined() {
		const room = freshRoom();
		const clock = new ManualClock();
		const ws = client({ clock });
		const seen = recordEvents(ws);
		await ws.connect(room);
		return { room, clock, ws, seen, following: () => ({ feed: follow(ws), hooks: ws.databaseHooks() }) };
	}

	test('a change already delivered names the position: live at once, a drop replayed exactly', async () => {
		const { room, clock, ws, seen, following } = await joined();
		await write(room, [todo(1)]);
		await whenTrue(ws, () => entityEvents(seen).length === 1, 'the change before following');

		const { feed, hooks } = following();
		expect(hooks.isLive()).toBe(true);
		await write(room, [todo(2)]);
		await drop(ws, clock, () => write(room, [todo(3), todo(4)]));
		await whenTrue(ws, () => hooks.isLive() && feed.changes.length === 3, 'the replay');
		expect(sinceOf(TrackedWebSocket.last())).toBe('2');
		expect(feed.ids()).toEqual([2, 3, 4]);
		expect(feed.resyncs).toBe(0);
	});

	test('no change yet: the first one names it; a drop after that is replayed exactly', async () => {
		const { room, clock, ws, following } = await joined();
		const { feed, hooks } = following();
		// Changes arrive from now on, but where the feed stands is unknown until the first one.
		expect(hooks.isLive()).toBe(false);
		await write(room, [todo(1)]);
		await whenTrue(ws, () => hooks.isLive(), 'named by the first change');
		await drop(ws, clock, () => write(room, [todo(2)]));
		await whenTrue(ws, () => hooks.isLive() && feed.changes.length === 2, 'the replay');
		expect(sinceOf(TrackedWebSocket.last())).toBe('1');
		expect(feed.ids()).toEqual([1, 2]);
		expect(feed.resyncs).toBe(0);
	});

	test('following while a socket that asked for nothing is still opening: as on an open socket', async () => {
		const room = freshRoom();
		const ws = client();
		const joined = ws.connect(room);
		const feed = follow(ws);
		const hooks = ws.databaseHooks();
		await joined;
		expect(sinceOf(TrackedWebSocket.last())).toBeNull();
		expect(hooks.isLive()).toBe(false);
		await write(room, [todo(1)]);
		await whenTrue(ws, () => hooks.isLive() && feed.changes.length === 1, 'named by the first change');
		expect(feed.ids()).toEqual([1]);
	});

	test('dropped before any change named it: entity:resync, never a silent gap', async () => {
		const { room, clock, ws, seen, following } = await joined();
		const { feed, hooks } = following();
		await drop(ws, clock, () => write(room, [todo(1)]));
		await whenTrue(ws, () => hooks.isLive(), 'caught up');
		expect(sinceOf(TrackedWebSocket.last())).toBe('-1');
		expect(entityEvents(seen)).toEqual(['entity:resync']);
		expect(seen.find((e) => e.event === 'entity:resync')!.data).toEqual({ room, head: 1 });
		expect(feed.resyncs).toBe(1);
		await write(room, [todo(2)]);
		await whenTrue(ws, () => feed.changes.length === 1, 'the next change');
		expect(feed.ids()).toEqual([2]);
	});
});

/** An in-process SharedWorker: one hub, and ports to it. */
function sharedWorker(): OpenPort {
	const hub = new SharedHub({ WebSocket: TrackedWebSocket as typeof WebSocket, heartbeatIntervalMs: 50, heartbeatMisses: 3 });
	const ports: MessagePort[] = [];
	cleanup.push(() => {
		hub.dispose();
		for (const port of ports) port.close();
	});
	return () => {
		const channel = new MessageChannel();
		hub.attach(channel.port2);
		ports.push(channel.port2);
		return channel.port1;
	};
}

describe("following late on the SharedWorker's socket", () => {
	/** Fast keep-alive, so the worker finds a socket the room closed within a fraction of a second. */
	const fast = { pingIntervalMs: 100, pongTimeoutMs: 100, reconnect: { baseDelayMs: 20, jitter: 0 } };

	test('tabs that do not follow: no since, no verdicts; a tab that follows later gets every change from then on, across a drop', async () => {
		const room = freshRoom();
		const open = sharedWorker();
		const a = client({ sharedWorker: open, ...fast });
		const b = client({ sharedWorker: open });
		const seenA = recordEvents(a);
		const seenB = recordEvents(b);
		await a.connect(room);
		await b.connect(room);
		expect(await b.rpc.echo('after the join')).toBe('after the join');
		expect(TrackedWebSocket.opened.filter((s) => s.opened.includes(room)).map(sinceOf)).toEqual([null]);
		expect(await hasChangeLog(room)).toBe(false);

		await write(room, [todo(1)]);
		await whenTrue(b, () => entityEvents(seenB).length === 1, 'the change before following');
		const feed = follow(b);
		const hooks = b.databaseHooks();
		// Change 1 came on this connection: the tab's feed and the worker's socket both start after it.
		expect(hooks.isLive()).toBe(true);
		await whenTrue(b, () => entityEvents(seenB).length === 2, "the worker's verdict");
		expect(entityEvents(seenB)).toEqual(['entity:created', 'entity:synced']);
		expect(seenB.at(-1)!.data).toEqual({ room, head: 1 });

		await write(room, [todo(2)]);
		await whenTrue(b, () => feed.changes.length === 1, 'the live change');
		await rooms.worker.rpc(room, 'closeAll', 1012, 'restart');
		await write(room, [todo(3), todo(4)]);
		await whenTrue(b, () => hooks.isLive() && feed.changes.length === 3, 'the missed changes');
		expect(feed.ids()).toEqual([2, 3, 4]);
		expect(feed.resyncs).toBe(0);
		expect(sinceOf(TrackedWebSocket.last())).toBe('2');
		// The tab that does not follow heard the changes, never a verdict.
		await whenTrue(a, () => entityEvents(seenA).length === 4, 'the changes in a');
		expect(entityEvents(seenA)).toEqual(['entity:created', 'entity:created', 'entity:created', 'entity:created']);
	});

	test("a tab that follows while the worker's socket is still opening, without a catch-up: told at the first change", async () => {
		const room = freshRoom();
		const open = sharedWorker();
		const a = client({ sharedWorker: open });
		const joined = a.connect(room);
		const feed = follow(a);
		await joined;
		expect(TrackedWebSocket.opened.filter((s) => s.opened.includes(room)).map(sinceOf)).toEqual([null]);
		expect(a.databaseHooks().isLive()).toBe(false);
		await write(room, [todo(1)]);
		await whenTrue(a, () => a.databaseHooks().isLive() && feed.changes.length === 1, 'named by the first change');
		expect(feed.ids()).toEqual([1]);
	});

	test('no change on the socket yet: the first one names it for every tab that followed; a drop before it ends in entity:resync', async () => {
		const room = freshRoom();
		const open = sharedWorker();
		const a = client({ sharedWorker: open, ...fast });
		await a.connect(room);
		// b joins following, c follows after joining: neither can be told where it stands yet.
		const b = client({ sharedWorker: open });
		const feedB = follow(b);
		await b.connect(room);
		const c = client({ sharedWorker: open });
		await c.connect(room);
		const feedC = follow(c);
		expect(b.databaseHooks().isLive()).toBe(false);
		expect(c.databaseHooks().isLive()).toBe(false);
		await write(room, [todo(1)]);
		await whenTrue(b, () => b.databaseHooks().isLive() && feedB.changes.length === 1, 'b named');
		await whenTrue(c, () => c.databaseHooks().isLive() && feedC.changes.length === 1, 'c named');

		// A second room, dropped before any change: what it missed cannot be named.
		const other = freshRoom();
		const d = client({ sharedWorker: open, ...fast });
		await d.connect(other);
		const feedD = follow(d);
		await rooms.worker.rpc(other, 'closeAll', 1012, 'restart');
		await whenTrue(d, () => feedD.resyncs === 1, 'the resync');
		expect(d.databaseHooks().isLive()).toBe(true);
		expect(feedD.changes).toEqual([]);
		await write(other, [todo(1)]);
		await whenTrue(d, () => feedD.changes.length === 1, 'the next change');
		expect(feedD.ids()).toEqual([1]);
	});
});

/** What the room sends a socket that joins with `query` added to its URL, up to the answer to a ping sent on open. */
async function joinFrames(room: string, query: string): Promise<{ url: number; frames: number; bytes: number; names: string[] }> {
	const url = rooms.worker.connectUrl(room, { user_id: 'ann' }) + query;
	const socket = new WebSocket(url);
	const frames: string[] = [];
	await new Promise<void>((resolve, reject) => {
		socket.onerror = () => reject(new Error('socket error'));
		socket.onmessage = (event) => {
			if (event.data === PONG) return resolve();
			frames.push(String(event.data));
			// The room sends what a join costs together, the list first: a ping sent once the list
			// is in comes back after the rest of it.
			if (frames.length === 1) socket.send(PING);
		};
	});
	socket.close(1000, 'measured');
	return {
		url: new TextEncoder().encode(url).length,
		frames: frames.length,
		bytes: frames.reduce((sum, frame) => sum + new TextEncoder().encode(frame).length, 0),
		names: frames.map((frame) => /"(session:[a-z]+|entity:[a-z]+)"/.exec(frame)?.[1] ?? '?'),
	};
}

test('what a join costs a client that does not follow entity changes, before (since=-1) and now (no since)', async () => {
	// A room that uses sync (its table exists) and one that never did, each joined both ways.
	for (const used of [true, false]) {
		const room = freshRoom();
		if (used) await write(room, [todo(1)]);
		const before = await joinFrames(room, '&since=-1');
		const now = await joinFrames(room, '');
		expect(before.names).toEqual(['session:list', 'entity:synced']);
		expect(now.names).toEqual(['session:list']);
		expect(await hasChangeLog(room)).toBe(used);
		console.log(
			`join of a non-following client, room ${used ? 'with' : 'without'} a change log: ` +
				`before ${before.frames} frames / ${before.bytes} B in + ${before.url} B URL; ` +
				`now ${now.frames} frames / ${now.bytes} B in + ${now.url} B URL; ` +
				`saved ${before.frames - now.frames} frame, ${before.bytes - now.bytes} B in, ${before.url - now.url} B of URL`,
		);
	}
});
