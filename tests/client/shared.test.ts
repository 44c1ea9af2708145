/**
 * The SharedWorker's hub without a browser: the hub runs in-process and each "tab" reaches it over
 * a `MessageChannel`, exactly the port a `new SharedWorker(…)` would hand out. Rooms are real (the
 * test room in workerd); a direct-socket `Probe` in the same room watches what the room sees.
 *
 * Heartbeats here run every 50 ms (the shipped default is 2 s) so that releases take a fraction of
 * a second; the bound is the same formula: `(misses + 1) × interval`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClosedByRoom } from '../../client/errors.js';
import { HandOverTransport } from '../../client/hand-over.js';
import { SharedHub, type SharedHubOptions } from '../../client/shared/hub.js';
import { PortTransport, SharedWorkerUnavailable, type OpenPort, type PortTransportOptions } from '../../client/shared/port-transport.js';
import type { PageLifecycleHandlers } from '../../client/shared/page-lifecycle.js';
import { manualWake } from './manual-wake.js';
import { PROTOCOL_VERSION, type HubStats, type WorkerMessage } from '../../client/shared/protocol.js';
import { errorFromWire, errorToWire } from '../../client/shared/wire.js';
import { SHARED_WORKER_NAME } from '../../client/shared-worker.js';
import { SocketTransport } from '../../client/socket-transport.js';
import type { TransportHandlers } from '../../client/transport.js';
import { WebsocketClient, type WebsocketClientOptions } from '../../client/websocket-client.svelte.js';
import { CallTimeout, ConnectionLost, RoomError } from '../../rpc/errors.js';
import type { RoomRpc } from '../../rpc/types.js';
import { recordEvents } from '../support/clients.js';
import { ManualClock } from '../support/manual-clock.js';
import { Probe } from '../support/probe.js';
import { until } from '../support/runes.svelte.js';
import { startRoomWorker, type RoomWorker } from '../support/workerd.js';
import type { TestApi, TestEvents, TestMeta } from '../worker/index.js';

const BEAT_MS = 50;
const MISSES = 3;
/** How long a silent tab may stay counted: see HEARTBEAT_INTERVAL_MS in client/shared/protocol.ts. */
const RELEASE_BOUND_MS = (MISSES + 1) * BEAT_MS;

let worker: RoomWorker;
beforeAll(async () => (worker = await startRoomWorker()));
afterAll(() => worker.dispose());

let rooms = 0;
const freshRoom = () => `shared-${++rooms}-${Date.now()}`;

/** Everything a test opened, closed after it. */
const cleanup: Array<() => void> = [];
afterEach(() => {
	for (const done of cleanup.splice(0).reverse()) done();
});

/** An in-process SharedWorker: one hub, and ports to it. */
class FakeWorker {
	readonly hub: SharedHub;
	readonly #channels: MessageChannel[] = [];
	/** What each port opened so far received from the worker, in order. */
	readonly received: WorkerMessage[][] = [];

	constructor(options: SharedHubOptions = {}) {
		this.hub = new SharedHub({ WebSocket, heartbeatIntervalMs: BEAT_MS, heartbeatMisses: MISSES, ...options });
		cleanup.push(() => this.kill());
	}

	readonly open: OpenPort = () => {
		const channel = new MessageChannel();
		this.hub.attach(channel.port2);
		this.#channels.push(channel);
		const log: WorkerMessage[] = [];
		this.received.push(log);
		channel.port1.addEventListener('message', (event) => log.push(event.data as WorkerMessage));
		return channel.port1;
	};

	/** The worker dies: its sockets close and its ports fall silent. */
	kill(): void {
		this.hub.dispose();
		for (const channel of this.#channels) {
			channel.port2.onmessage = null;
			channel.port2.close();
		}
	}

	stats(): HubStats {
		return this.hub.stats();
	}
}

/** Resolves once `predicate()` holds, checking after each turn of the event loop (bounded). */
async function eventually(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!predicate()) {
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await new Promise((resolve) => setImmediate(resolve));
	}
}

type Tab = WebsocketClient<TestMeta, TestEvents, TestApi>;

/** A tab's client, sharing the room's socket through `via`. */
function tab(via: FakeWorker, meta: TestMeta = { user_id: 'ann' }, options: WebsocketClientOptions<TestApi> = {}): Tab {
	const client = new WebsocketClient<TestMeta, TestEvents, TestApi>({
		WebSocket,
		sharedWorker: via.open,
		url: (room) => worker.connectUrl(room, meta),
		...options,
	});
	cleanup.push(() => client.destroy());
	return client;
}

/** A worker and two of ann's tabs through it, both connected to `room`, `a` first. */
async function twoTabs(room: string, options: { a?: WebsocketClientOptions<TestApi>; b?: WebsocketClientOptions<TestApi> } = {}) {
	const shared = new FakeWorker();
	const a = tab(shared, { user_id: 'ann' }, options.a);
	const b = tab(shared, { user_id: 'ann' }, options.b);
	await a.connect(room);
	await b.connect(room);
	return { shared, a, b };
}

async function probe(room: string, user_id = 'bob'): Promise<Probe> {
	const p = await Probe.join(worker, room, { user_id });
	cleanup.push(() => void p.close());
	return p;
}

const sessionsOf = (room: string) => worker.rpc<Array<{ ws_session_id: string; meta: TestMeta }>>(room, 'getSessions');
const texts = (events: Array<{ event: string; data: any }>, name = 'chat:message') => events.filter((e) => e.event === name).map((e) => e.data.text);

/** A listener that records what a transport reports. */
function recorder() {
	const log: string[] = [];
	const events: Array<{ name: string; data: any }> = [];
	const listener: TransportHandlers = {
		status: (status) => log.push(`status:${status}`),
		event: (name, data) => {
			events.push({ name, data });
			log.push(`event:${name}`);
		},
		warning: (w) => log.push(`warning:${w.code}`),
	};
	return { log, events, listener };
}

/** An ann tab's port options: heartbeats as fast as the hub's, no feed position, no wake signals, no page lifecycle. */
function portOptions(open: OpenPort): PortTransportOptions {
	return {
		openPort: open,
		url: (r) => worker.connectUrl(r, { user_id: 'ann' }),
		since: () => -1,
		heartbeatIntervalMs: BEAT_MS,
		heartbeatMisses: MISSES,
		wakeSignals: () => () => {},
		pageLifecycle: () => () => {},
	};
}

/** A tab's transport on its own, with heartbeats as fast as the hub's and a page lifecycle the test drives. */
function portTab(open: OpenPort, room: string, options: Partial<PortTransportOptions> = {}) {
	const rec = recorder();
	let page: PageLifecycleHandlers | undefined;
	const transport = new PortTransport<RoomRpc<TestApi>>(rec.listener, {
		...portOptions(open),
		pageLifecycle: (handlers) => {
			page = handlers;
			return () => (page = undefined);
		},
		...options,
	});
	cleanup.push(() => transport.destroy());
	return { ...rec, transport, room, page: () => page! };
}

/**
 * A port whose page can be frozen: while frozen nothing runs in it, so nothing it receives is
 * handled (it is held, as a browser holds tasks of a frozen page) and it answers nothing.
 */
function freezable(open: OpenPort) {
	let frozen = false;
	const held: unknown[] = [];
	let handler: ((event: MessageEvent) => void) | null = null;
	const opener: OpenPort = (onError) => {
		const port = open(onError);
		port.onmessage = (event) => (frozen ? held.push(event.data) : handler?.(event));
		return {
			set onmessage(h: ((event: MessageEvent) => void) | null) {
				handler = h;
			},
			get onmessage() {
				return handler;
			},
			postMessage: (message: unknown) => {
				if (!frozen) port.postMessage(message);
			},
			close: () => port.close(),
		} as unknown as MessagePort;
	};
	return {
		open: opener,
		freeze: () => void (frozen = true),
		thaw: () => {
			frozen = false;
			for (const data of held.splice(0)) handler?.({ data } as MessageEvent);
		},
	};
}

describe('one socket per room for all tabs', () => {
	test('two tabs are one session; a broadcast reaches each tab once', async () => {
		const room = freshRoom();
		const bob = await probe(room);
		const { shared, a, b } = await twoTabs(room);

		const sessions = await sessionsOf(room);
		expect(sessions.map((s) => s.meta.user_id).sort()).toEqual(['ann', 'bob']);
		// Both tabs see the same two sessions: the shared one is "them".
		expect(a.sessions.map((s) => s.ws_session_id)).toEqual(sessions.map((s) => s.ws_session_id));
		expect(b.sessions.map((s) => s.ws_session_id)).toEqual(a.sessions.map((s) => s.ws_session_id));
		expect(await bob.next('session:connected')).toMatchObject({ meta: { user_id: 'ann' } });
		expect(shared.stats().rooms).toMatchObject([{ room, tabs: 2, status: 'connected', sessions: 2 }]);

		const seenA = recordEvents(a);
		const seenB = recordEvents(b);
		await a.rpc.post('from a');
		await b.rpc.post('from b');
		await bob.rpc.post('from bob');
		// The last broadcast arrived everywhere, so any duplicate of an earlier one would have too.
		await eventually(() => texts(seenA).includes('from bob') && texts(seenB).includes('from bob'), 'the last message in both tabs');
		expect(texts(seenA)).toEqual(['from a', 'from b', 'from bob']);
		expect(texts(seenB)).toEqual(['from a', 'from b', 'from bob']);
		// The room heard of the shared session once.
		expect(bob.names().filter((n) => n === 'session:connected')).toHaveLength(1);
		// At the port level too: one event message per broadcast per tab.
		for (const log of shared.received) {
			expect(log.filter((m) => m.type === 'event' && m.name === 'chat:message')).toHaveLength(3);
		}
	});

	test('sends queued while joining leave before a send made by a ws:connected listener', async () => {
		const room = freshRoom();
		const shared = new FakeWorker();
		const a = tab(shared, { user_id: 'ann' });
		const joined = a.connect(room);
		const queued = [a.send('log', 1), a.send('log', 2)];
		let fromListener: Promise<unknown> | undefined;
		a.once('ws:connected', () => void (fromListener = a.send('log', 0)));
		await joined;
		await Promise.all([...queued, fromListener]);
		expect(await worker.rpc(room, 'messages')).toEqual([1, 2, 0]);
	});

	test('a reply reaches only the tab that called; send results too', async () => {
		const room = freshRoom();
		const { shared, a, b } = await twoTabs(room);

		// Both tabs number their requests from 1: the worker must not mix them up.
		const [slow, echoed] = await Promise.all([a.rpc.slow(50), b.rpc.echo('for b')]);
		expect(slow).toBe(50);
		expect(echoed).toBe('for b');
		const rich = { at: new Date(5), map: new Map([['k', 1]]), set: new Set(['x']), big: 10n, nothing: undefined };
		expect(await a.send('echo', rich)).toEqual(rich);

		const [logA, logB] = shared.received;
		expect(logA!.filter((m) => m.type === 'replied')).toHaveLength(1);
		expect(logB!.filter((m) => m.type === 'replied')).toHaveLength(1);
		expect(logA!.filter((m) => m.type === 'sent')).toHaveLength(1);
		expect(logB!.filter((m) => m.type === 'sent')).toHaveLength(0);
	});

	test("a refused batch: the rejection and the room's error event go to the calling tab only", async () => {
		const room = freshRoom();
		const { a, b } = await twoTabs(room);
		const seenA = recordEvents(a);
		const seenB = recordEvents(b);

		const refused = await (a.rpc as unknown as { nope(): Promise<unknown> }).nope().catch((e: unknown) => e);
		expect(refused).toBeInstanceOf(RoomError);
		expect(refused).toMatchObject({ code: 'unknown_method', status: 404 });
		await a.rpc.post('marker');
		await eventually(() => texts(seenB).includes('marker') && texts(seenA).includes('marker'), 'the marker in both tabs');
		expect(seenA.filter((e) => e.event === 'error').map((e) => e.data.code)).toEqual(['unknown_method']);
		expect(seenB.filter((e) => e.event === 'error')).toEqual([]);
	});

	test('a tab joining an open room has status, presence and a live change feed at once', async () => {
		const room = freshRoom();
		const shared = new FakeWorker();
		const a = tab(shared);
		await a.connect(room);
		const changesA: unknown[] = [];
		a.databaseHooks().onSubscribe((c) => changesA.push(c));
		await worker.rpc(room, 'entityChanged', 'created', 'todo', 1, { title: 'one' });
		await worker.rpc(room, 'entityChanged', 'created', 'todo', 2, { title: 'two' });
		await eventually(() => changesA.length === 2, 'a to get both changes');

		const b = tab(shared);
		const seenB = recordEvents(b);
		const changesB: unknown[] = [];
		b.databaseHooks().onSubscribe((c) => changesB.push(c));
		await b.connect(room);
		// Settled when connect() resolves, with nothing from the room but the worker's summary.
		expect(b.sessions).toHaveLength(1);
		expect(b.databaseHooks().isLive()).toBe(true);
		expect(seenB.map((e) => e.event)).toEqual(['session:list', 'entity:synced', 'ws:connected']);
		expect(seenB[1]!.data).toEqual({ room, head: 2 });
		expect(changesB).toEqual([]);

		await worker.rpc(room, 'entityChanged', 'updated', 'todo', 1, { title: 'uno' });
		await eventually(() => changesA.length === 3 && changesB.length === 1, 'the new change in both tabs');
		expect(changesB).toEqual([{ type: 'update', entity_type: 'todo', id: 1, data: { title: 'uno' } }]);
	});

	test('a tab that knows less than the worker is told to resync instead of missing changes', async () => {
		const room = freshRoom();
		const shared = new FakeWorker();
		const a = tab(shared);
		await a.connect(room);
		await worker.rpc(room, 'entitiesChanged', [
			{ action: 'created', entity_type: 'todo', id: 1 },
			{ action: 'created', entity_type: 'todo', id: 2 },
		]);
		await eventually(() => shared.stats().rooms[0]?.position === 2, 'the worker at position 2');

		// This tab's feed stopped at 0 (say, it was away from this worker): the socket will not replay 1..2 for it.
		const behind = portTab(shared.open, room, { since: () => 0 });
		await behind.transport.connect(room);
		expect(behind.events.map((e) => e.name)).toEqual(['session:list', 'entity:resync']);
		expect(behind.events[1]!.data).toEqual({ room, head: 2 });
	});

	test('one tab leaving keeps the socket; the last one closes it and the room announces it', async () => {
		const room = freshRoom();
		const bob = await probe(room);
		const { shared, a, b } = await twoTabs(room);

		a.disconnect();
		await eventually(() => shared.stats().rooms[0]?.tabs === 1, 'the worker to count one tab');
		expect(await b.rpc.add(1, 2)).toBe(3);
		expect(shared.stats().rooms).toMatchObject([{ room, tabs: 1, status: 'connected' }]);
		expect(bob.names()).not.toContain('session:disconnected');

		b.destroy();
		expect(await bob.next('session:disconnected')).toMatchObject({ meta: { user_id: 'ann' } });
		expect(shared.stats().rooms).toEqual([]);
		expect(await sessionsOf(room)).toHaveLength(1);
	});

	test('switching rooms moves the tab; each room hears only its own tabs', async () => {
		const [first, second] = [freshRoom(), freshRoom()];
		const { shared, a, b } = await twoTabs(first);
		const seenA = recordEvents(a);
		await a.connect(second);
		expect(
			shared
				.stats()
				.rooms.map((r) => [r.room, r.tabs])
				.sort(),
		).toEqual([
			[first, 1],
			[second, 1],
		]);
		await b.rpc.post('only in the first room');
		await a.rpc.post('in the second room');
		await eventually(() => texts(seenA).includes('in the second room'), 'the second room message');
		expect(texts(seenA)).toEqual(['in the second room']);
	});
});

describe('the network, as the tabs see it', () => {
	test("a tab going offline closes the worker's socket for every tab at once; online brings them back", async () => {
		const room = freshRoom();
		const bob = await probe(room);
		const network = manualWake();
		const { a, b } = await twoTabs(room, { a: { wakeSignals: network.signals } });
		await bob.next('session:connected');

		network.fire('offline');
		await until(() => a.status === 'reconnecting' && b.status === 'reconnecting', 'both tabs to leave connected');
		expect((await bob.next('session:disconnected')).meta.user_id).toBe('ann');
		// No countdown: nothing is retried until the network is back.
		expect(a.nextRetry).toBeNull();
		expect(b.nextRetry).toBeNull();

		network.fire('online');
		await until(() => a.connected && b.connected, 'both tabs back');
		expect((await sessionsOf(room)).filter((s) => s.meta.user_id === 'ann')).toHaveLength(1);
	});

	test('a tab that joins online brings back a socket another tab had taken offline', async () => {
		const room = freshRoom();
		const network = manualWake();
		const shared = new FakeWorker();
		const a = tab(shared, { user_id: 'ann' }, { wakeSignals: network.signals });
		await a.connect(room);
		network.fire('offline');
		await until(() => a.status === 'reconnecting', 'the socket closed');
		// (Bun's navigator says nothing of the network, which a tab takes as online.)
		const b = tab(shared);
		await b.connect(room);
		expect(a.connected).toBe(true);
	});

	test('retryNow() from a tab retries the shared socket at once, even while offline', async () => {
		const room = freshRoom();
		const network = manualWake();
		const { a, b } = await twoTabs(room, { a: { wakeSignals: network.signals } });
		network.fire('offline');
		await until(() => b.status === 'reconnecting', 'the socket closed');
		b.retryNow();
		await until(() => a.connected && b.connected, 'both tabs back after retryNow');
	});

	test('debug: the shared socket reports to the tabs that asked for it, and only to them', async () => {
		const room = freshRoom();
		const lines: string[] = [];
		const network = manualWake();
		const { shared, b } = await twoTabs(room, { a: { debug: (line) => lines.push(line), wakeSignals: network.signals } });
		expect(lines.some((l) => l.startsWith('[shared] open ws://'))).toBe(true);
		expect(lines.some((l) => l.startsWith('[shared] ← ') && l.includes('session:list'))).toBe(true);
		network.fire('offline');
		await until(() => b.status === 'reconnecting', 'the socket closed');
		expect(lines).toContain('[tab] offline: telling the shared worker');
		expect(lines).toContain('[shared] closed 4002 "The browser went offline": the browser is offline, next attempt when it is back online');
		// The tab without `debug` was sent none of it.
		expect(shared.received[1]!.filter((m) => m.type === 'debug')).toEqual([]);
	});
});

describe('tab liveness', () => {
	test('pagehide: a tab that says goodbye is released at once', async () => {
		const room = freshRoom();
		const shared = new FakeWorker();
		const bob = await probe(room);
		const leaving = portTab(shared.open, room);
		await leaving.transport.connect(room);
		await bob.next('session:connected');

		const said = Date.now();
		leaving.page().hide();
		await bob.next('session:disconnected');
		// Well within one heartbeat: the goodbye, not the heartbeat, released it.
		expect(Date.now() - said).toBeLessThan(BEAT_MS * MISSES);
	});

	test(`a tab that dies silently is released by the heartbeat within ${RELEASE_BOUND_MS} ms`, async () => {
		const room = freshRoom();
		const shared = new FakeWorker();
		const bob = await probe(room);
		const survivor = portTab(shared.open, room);
		// The doomed tab's own timers never run (a frozen clock): a crashed page runs nothing.
		let port!: MessagePort;
		const doomed = portTab((onError) => (port = shared.open(onError)), room, { clock: new ManualClock() });
		await survivor.transport.connect(room);
		await doomed.transport.connect(room);
		survivor.transport.disconnect();
		await eventually(() => shared.stats().rooms[0]?.tabs === 1, 'the doomed tab alone in the room');

		// The crash: its port is gone, no goodbye.
		port.onmessage = null;
		port.close();
		const died = Date.now();
		await bob.next('session:disconnected', 5_000);
		const released = Date.now() - died;
		expect(released).toBeLessThanOrEqual(RELEASE_BOUND_MS + 100);
		expect(released).toBeGreaterThanOrEqual(BEAT_MS * MISSES - 10);
		// Only the survivor's port is still counted (it left the room, but its page is alive).
		expect(shared.stats()).toEqual({ tabs: 1, rooms: [] });
	});

	test('a live tab answers every heartbeat and stays counted', async () => {
		const room = freshRoom();
		const shared = new FakeWorker();
		const a = portTab(shared.open, room);
		await a.transport.connect(room);
		// Ten intervals of heartbeats: a message handler answers them, no timer needed in the tab.
		await eventually(() => shared.received[0]!.filter((m) => m.type === 'ping').length >= 10, 'ten pings');
		expect(shared.stats().rooms).toMatchObject([{ tabs: 1, status: 'connected' }]);
		expect(shared.received[0]!.some((m) => m.type === 'released')).toBe(false);
	});

	test('a frozen tab is released, and joins again when it thaws', async () => {
		const room = freshRoom();
		const shared = new FakeWorker();
		const bob = await probe(room);
		const ice = freezable(shared.open);
		// Its own liveness check does not run while frozen either (frozen clock).
		const sleeper = portTab(ice.open, room, { clock: new ManualClock() });
		await sleeper.transport.connect(room);

		ice.freeze();
		await bob.next('session:disconnected');
		expect(shared.stats().rooms).toEqual([]);

		ice.thaw();
		await bob.next('session:connected');
		await eventually(() => sleeper.transport.status === 'connected', 'the thawed tab connected again');
		expect(sleeper.log.filter((l) => l.startsWith('status:'))).toEqual(['status:connecting', 'status:connected', 'status:reconnecting', 'status:connected']);
		expect(shared.stats().rooms).toMatchObject([{ room, tabs: 1 }]);
	});

	test('the worker dies: tabs notice the silence, start a new worker and join again', async () => {
		const room = freshRoom();
		let current = new FakeWorker();
		const first = current;
		const open: OpenPort = (onError) => current.open(onError);
		const bob = await probe(room);
		const a = portTab(open, room);
		const b = portTab(open, room);
		await a.transport.connect(room);
		await b.transport.connect(room);
		await bob.next('session:connected');

		current = new FakeWorker();
		first.kill(); // as when the tab hosting the worker crashes
		await bob.next('session:disconnected');
		await bob.next('session:connected');
		await eventually(() => a.transport.status === 'connected' && b.transport.status === 'connected', 'both tabs back');
		expect(current.stats().rooms).toMatchObject([{ room, tabs: 2, status: 'connected' }]);
		expect((await sessionsOf(room)).map((s) => s.meta.user_id).sort()).toEqual(['ann', 'bob']);
		for (const t of [a, b])
			expect(t.log.filter((l) => l.startsWith('status:'))).toEqual(['status:connecting', 'status:connected', 'status:reconnecting', 'status:connected']);
	});
});

describe('fallback', () => {
	/** The shared transport, falling back to a direct socket, as `WebsocketClient` builds it. */
	function fallbackTab(open: OpenPort) {
		const rec = recorder();
		let fellBack = false;
		const transport = new HandOverTransport<RoomRpc<TestApi>>(
			rec.listener,
			(listener, unavailable) =>
				new PortTransport<RoomRpc<TestApi>>(listener, {
					...portOptions(open),
					onUnavailable: (_error, queued) => ((fellBack = true), unavailable(queued)),
				}),
			(listener) => new SocketTransport<RoomRpc<TestApi>>(listener, { url: (r) => worker.connectUrl(r, { user_id: 'ann' }), WebSocket }),
		);
		cleanup.push(() => transport.destroy());
		return { ...rec, transport, fellBack: () => fellBack };
	}

	test('no SharedWorker in this environment: every client has its own socket, events arrive once', async () => {
		const room = freshRoom();
		// No `sharedWorker` option and no global SharedWorker (as in Bun, or Chrome on Android).
		const make = () => {
			const c = new WebsocketClient<TestMeta, TestEvents, TestApi>({ url: (r) => worker.connectUrl(r, { user_id: 'ann' }), WebSocket, shared: true });
			cleanup.push(() => c.destroy());
			return c;
		};
		const [a, b] = [make(), make()];
		await a.connect(room);
		await b.connect(room);
		expect(await sessionsOf(room)).toHaveLength(2);
		const seenA = recordEvents(a);
		const seenB = recordEvents(b);
		await a.rpc.post('once');
		await b.rpc.post('twice?');
		await eventually(() => texts(seenA).length === 2 && texts(seenB).length === 2, 'both messages in both clients');
		expect(texts(seenA)).toEqual(['once', 'twice?']);
		expect(texts(seenB)).toEqual(['once', 'twice?']);
	});

	test('shared: false uses a direct socket even with a worker at hand', async () => {
		const room = freshRoom();
		const shared = new FakeWorker();
		const a = tab(shared, { user_id: 'ann' }, { shared: false });
		await a.connect(room);
		expect(shared.received).toEqual([]);
		expect(await sessionsOf(room)).toHaveLength(1);
	});

	test('a SharedWorker that cannot start: the direct socket takes over, with the sends already queued', async () => {
		const room = freshRoom();
		const t = fallbackTab(() => {
			throw new Error('SecurityError: blocked by policy');
		});
		const joined = t.transport.connect(room);
		const queued = t.transport.send('echo', 'queued before the fallback');
		await joined;
		expect(t.fellBack()).toBe(true);
		expect(await queued).toBe('queued before the fallback');
		expect(t.log.filter((l) => l.startsWith('status:'))).toEqual(['status:connecting', 'status:connected']);
		expect(await sessionsOf(room)).toHaveLength(1);
	});

	test('a SharedWorker that never answers (script failed to load): direct socket after the welcome timeout', async () => {
		const room = freshRoom();
		const silent = new MessageChannel(); // nobody at the other end
		cleanup.push(() => silent.port1.close());
		const t = fallbackTab(() => silent.port1);
		const started = Date.now();
		await t.transport.connect(room);
		expect(t.fellBack()).toBe(true);
		expect(Date.now() - started).toBeLessThan(RELEASE_BOUND_MS + 500);
		expect(await t.transport.rpc.add(2, 2)).toBe(4);
	});

	test('a worker speaking another protocol version is not used', async () => {
		const room = freshRoom();
		const other = new MessageChannel();
		other.port2.onmessage = () => other.port2.postMessage({ type: 'welcome', version: PROTOCOL_VERSION + 1 } satisfies WorkerMessage);
		cleanup.push(() => (other.port1.close(), other.port2.close()));
		const t = fallbackTab(() => other.port1);
		await t.transport.connect(room);
		expect(t.fellBack()).toBe(true);
		expect(t.transport.status).toBe('connected');
	});
});

describe('the same errors as a direct socket', () => {
	test('kicked: every tab stops with ClosedByRoom; connect() starts over', async () => {
		const room = freshRoom();
		const { a, b } = await twoTabs(room);
		const [session] = await sessionsOf(room);
		await worker.rpc(room, 'kick', session!.ws_session_id, 'out');
		await until(() => a.status === 'disconnected' && b.status === 'disconnected', 'both tabs stopped');
		for (const t of [a, b]) {
			expect(t.error).toBeInstanceOf(ClosedByRoom);
			expect(t.error).toMatchObject({ code: 'kicked', closeCode: 4001, reason: 'out', status: 403 });
		}
		await a.connect(room);
		await until(() => b.status === 'connected', 'the other tab back too: the room socket started over');
	});

	test('CallTimeout and ConnectionLost are rebuilt on the tab side', async () => {
		const room = freshRoom();
		const shared = new FakeWorker();
		const a = tab(shared, { user_id: 'ann' }, { callTimeoutMs: 100 });
		await a.connect(room);
		const timedOut = await a.rpc.slow(1_000).catch((e: unknown) => e);
		expect(timedOut).toBeInstanceOf(CallTimeout);
		expect(timedOut).toMatchObject({ code: 'timeout', status: 504 });

		const inflight = a.rpc.slow(50).catch((e: unknown) => e);
		await new Promise((resolve) => setImmediate(resolve)); // the batch leaves at the end of the macrotask
		a.disconnect();
		expect(await inflight).toBeInstanceOf(ConnectionLost);
		// Out of the room now: the call says so rather than "connection lost".
		expect(await a.rpc.add(1, 1).catch((e: unknown) => e)).toMatchObject({ code: 'not_connected' });
	});

	test('every error class survives the port', () => {
		for (const error of [
			new ConnectionLost('gone'),
			new CallTimeout(1234),
			new ClosedByRoom(4403, 'no'),
			new RoomError('rate_limited', 'slow down', 429),
			new Error('plain'),
		]) {
			const back = errorFromWire(structuredClone(errorToWire(error)));
			expect(back).toBeInstanceOf(RoomError);
			expect(back.name).toBe(error instanceof RoomError ? error.name : 'RoomError');
			expect(back.message).toBe(error.message);
			if (error instanceof RoomError) expect(back.toJSON()).toEqual(error.toJSON());
			if (error instanceof ClosedByRoom) expect(back).toMatchObject({ closeCode: 4403, reason: 'no' });
		}
	});
});

describe('worker reconnects for all tabs', () => {
	test('after a drop the worker rejoins with its position: missed changes reach every tab once', async () => {
		const room = freshRoom();
		const fast = { pingIntervalMs: 100, pongTimeoutMs: 100, reconnect: { baseDelayMs: 20, jitter: 0 } };
		const { shared, a, b } = await twoTabs(room, { a: fast });
		const changes = { a: [] as number[], b: [] as number[] };
		a.databaseHooks().onSubscribe((c) => changes.a.push(c.id as number));
		b.databaseHooks().onSubscribe((c) => changes.b.push(c.id as number));
		await worker.rpc(room, 'entityChanged', 'created', 'todo', 1);
		await eventually(() => changes.a.length === 1 && changes.b.length === 1, 'the first change');

		const reconnected = { a: false, b: false };
		a.on('ws:connected', (e) => (reconnected.a = e.reconnected));
		b.on('ws:connected', (e) => (reconnected.b = e.reconnected));
		// Closed from the room's side without a notice: the worker's keep-alive finds out.
		await worker.rpc(room, 'closeAll', 1012, 'restart');
		await worker.rpc(room, 'entitiesChanged', [
			{ action: 'created', entity_type: 'todo', id: 2 },
			{ action: 'created', entity_type: 'todo', id: 3 },
		]);
		await eventually(() => reconnected.a && reconnected.b, 'both tabs reconnected', 5_000);
		await eventually(() => changes.a.length === 3 && changes.b.length === 3, 'the missed changes', 5_000);
		expect(changes).toEqual({ a: [1, 2, 3], b: [1, 2, 3] });
		expect(shared.stats().rooms).toMatchObject([{ position: 3, sessions: 1 }]);
		expect(await sessionsOf(room)).toHaveLength(1);
	});
});

test('the worker name carries the package version, literally where bundlers read it', () => {
	const root = join(import.meta.dir, '..', '..');
	const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
	expect(SHARED_WORKER_NAME).toBe(`@delightstack/websocket@${version}`);
	const source = readFileSync(join(root, 'client', 'shared-worker.ts'), 'utf8');
	expect(source).toContain(`new SharedWorker(new URL('./shared/worker.js', import.meta.url), {\n\t\ttype: 'module',\n\t\tname: '${SHARED_WORKER_NAME}',\n\t})`);
});

test('SharedWorkerUnavailable is a RoomError with its own code', () => {
	expect(new SharedWorkerUnavailable('x')).toMatchObject({ code: 'shared_worker_unavailable', name: 'SharedWorkerUnavailable' });
});
