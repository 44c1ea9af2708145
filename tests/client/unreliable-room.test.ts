/**
 * The client against rooms that misbehave on purpose (a `Bun.serve` stand-in on 127.0.0.1): one
 * that stops answering pings, one that accepts and closes at once, one whose handshake is refused,
 * one that closes with a terminal code. Backoff and keep-alive run on a ManualClock unless the test
 * is about real timers.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { ClosedByRoom, RetriesExhausted } from '../../client/errors.js';
import { OFFLINE_CLOSE_CODE } from '../../client/socket-transport.js';
import { WebsocketClient, type WebsocketClientOptions } from '../../client/websocket-client.svelte.js';
import { WIRE_PARAM, WIRE_VERSION } from '../../rpc/wire-version.js';
import { nextEvent, noJitter } from '../support/clients.js';
import { FakeRoom } from '../support/fake-room.js';
import { ManualClock } from '../support/manual-clock.js';
import { until } from '../support/runes.svelte.js';
import { manualWake } from './manual-wake.js';

let room: FakeRoom;
let clients: WebsocketClient[] = [];
afterEach(() => {
	for (const c of clients) c.destroy();
	clients = [];
	room?.stop();
});

function client(options: WebsocketClientOptions = {}): WebsocketClient {
	const c = new WebsocketClient({ WebSocket, url: () => room.url, random: noJitter, ...options });
	clients.push(c);
	return c;
}

/** Steps through `n` scheduled retries; returns how long each waited. */
async function stepRetries(ws: WebsocketClient, clock: ManualClock, n: number): Promise<number[]> {
	const waits: number[] = [];
	for (let attempt = 1; attempt <= n; attempt++) {
		await until(() => ws.nextRetry?.attempt === attempt, `retry ${attempt} to be scheduled`);
		const wait = ws.nextRetry!.at - clock.now();
		waits.push(wait);
		clock.advance(wait);
	}
	return waits;
}

describe('keep-alive', () => {
	test('a room that stops answering pings is dropped within the pong timeout (real timers)', async () => {
		room = new FakeRoom();
		room.behaviour.answerPings = false;
		const ws = client({ pingIntervalMs: 50, pongTimeoutMs: 200, reconnect: { baseDelayMs: 10 } });
		await ws.connect('r');
		const since = performance.now();
		const dropped = await nextEvent(ws, 'ws:disconnected');
		const elapsed = performance.now() - since;
		expect(dropped).toMatchObject({ code: 4000, reconnecting: true });
		expect(room.received[0]).toBe('ping');
		// At least the pong timeout, and not much more than interval + timeout.
		expect(elapsed).toBeGreaterThanOrEqual(200);
		expect(elapsed).toBeLessThan(250 + 750);
		// ...and it comes back by itself.
		await until(() => ws.connected, 'the reconnect');
		expect(room.accepted).toBe(2);
	});

	test('answered pings keep the socket; the first unanswered one ends it at exactly interval + timeout', async () => {
		room = new FakeRoom();
		const clock = new ManualClock();
		const ws = client({ clock });
		await ws.connect('r');
		expect(clock.pending()).toEqual([30_000]);

		clock.advance(30_000);
		expect(clock.pending()).toEqual([10_000]); // waiting for the pong
		expect(await clock.whenScheduled()).toBe(30_000); // the pong came: next ping in 30 s, no deadline left
		expect(clock.pending()).toEqual([30_000]);
		expect(room.received).toEqual(['ping']);

		room.behaviour.answerPings = false;
		clock.advance(30_000);
		await room.until(() => room.received.length === 2, 'the second ping');
		clock.advance(9_999);
		expect(ws.status).toBe('connected');
		clock.advance(1);
		expect(ws.status).toBe('reconnecting');
		expect(ws.nextRetry).toEqual({ attempt: 1, at: clock.now() + 1_000 });
	});

	/** A client connected to a fresh fake room, with its clock and network events in the test's hands. */
	async function connectedByHand() {
		room = new FakeRoom();
		const clock = new ManualClock();
		const wake = manualWake();
		const ws = client({ clock, wakeSignals: wake.signals });
		await ws.connect('r');
		return { clock, wake, ws };
	}

	// A connected client whose room stopped answering pings must ping at once (not at the next
	// interval) and give the socket up when the pong deadline passes.
	test('a tab becoming visible checks a connected socket at once instead of at the next interval', async () => {
		const { clock, wake, ws } = await connectedByHand();
		room.behaviour.answerPings = false;
		wake.fire('visible');
		await room.until(() => room.received.length === 1, 'the probe ping');
		expect(clock.pending()).toEqual([10_000]); // only the pong deadline
		clock.advance(10_000);
		expect(ws.status).toBe('reconnecting');
	});

	test('going offline closes a connected socket at once and retries on online, not before', async () => {
		const { clock, wake, ws } = await connectedByHand();
		const dropped = nextEvent(ws, 'ws:disconnected');
		wake.fire('offline');
		// At once: no ping, no pong timeout to wait out.
		expect(ws.status).toBe('reconnecting');
		expect(await dropped).toMatchObject({ code: OFFLINE_CLOSE_CODE, reconnecting: true });
		expect(ws.nextRetry).toBeNull();
		// However long the browser stays offline, no attempt is made.
		clock.advance(10 * 60_000);
		expect(room.attempts).toBe(1);
		expect(ws.status).toBe('reconnecting');

		wake.fire('online');
		await until(() => ws.connected, 'back on online');
		expect(room.attempts).toBe(2);
	});

	test('going offline while waiting out a backoff cancels the countdown until online', async () => {
		const { clock, wake, ws } = await connectedByHand();
		room.closeAll(1012);
		await until(() => ws.nextRetry !== null, 'a retry to be scheduled');
		wake.fire('offline');
		expect(ws.nextRetry).toBeNull();
		clock.advance(60_000);
		expect(room.attempts).toBe(1);
		wake.fire('online');
		await until(() => ws.connected, 'back on online');
		expect(room.attempts).toBe(2);
	});

	test('retryNow() starts the next attempt at once, and starts over after the retries ran out', async () => {
		room = new FakeRoom();
		room.behaviour.refuseWith = 503;
		const clock = new ManualClock();
		const ws = client({ clock, reconnect: { maxAttempts: 1 } });
		ws.connect('r').catch(() => {});
		await until(() => ws.nextRetry?.attempt === 1, 'the first retry to be scheduled');
		ws.retryNow();
		await until(() => ws.status === 'disconnected', 'the retries to run out');
		expect(room.attempts).toBe(2);
		expect(ws.error).toBeInstanceOf(RetriesExhausted);

		room.behaviour.refuseWith = null;
		ws.retryNow();
		await until(() => ws.connected, 'connected after retryNow');
		expect(room.attempts).toBe(3);
		expect(ws.error).toBeNull();
	});
});

describe('backoff against real sockets', () => {
	test('a room that accepts and closes at once is backed off, not hammered; stable uptime resets it', async () => {
		room = new FakeRoom();
		room.behaviour.closeWith = 1011;
		const clock = new ManualClock();
		const ws = client({ clock, reconnect: { stableAfterMs: 10_000 } });
		await ws.connect('r'); // joined for a moment: the list arrives before the close
		expect(await stepRetries(ws, clock, 5)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
		await room.until(() => room.accepted === 6, 'the fifth retry');

		// The room behaves again: once a connection has stayed up 10 s, the next drop waits 1 s.
		room.behaviour.closeWith = null;
		await until(() => ws.nextRetry?.attempt === 6, 'retry 6 to be scheduled');
		clock.advance(ws.nextRetry!.at - clock.now());
		await until(() => ws.connected, 'a lasting connection');
		clock.advance(10_000);
		room.closeAll(1012);
		await until(() => ws.nextRetry !== null, 'the drop');
		expect(ws.nextRetry).toEqual({ attempt: 1, at: clock.now() + 1_000 });
	});

	test('a refused handshake (HTTP 403) cannot be told from an outage: retried, then rests until woken', async () => {
		room = new FakeRoom();
		room.behaviour.refuseWith = 403;
		const clock = new ManualClock();
		const wake = manualWake();
		const ws = client({ clock, wakeSignals: wake.signals, reconnect: { maxAttempts: 2 } });
		const errorEvent = nextEvent(ws, 'error');

		const joining = ws.connect('r').catch((e) => e);
		expect(await stepRetries(ws, clock, 2)).toEqual([1_000, 2_000]);
		const error = await joining;
		expect(error).toBeInstanceOf(RetriesExhausted);
		expect(error).toMatchObject({ attempts: 2, lastCloseCode: 1006, code: 'retries_exhausted' });
		expect(ws.status).toBe('disconnected');
		expect(ws.error).toBe(error);
		expect(await errorEvent).toMatchObject({ code: 'retries_exhausted' });
		expect(room.attempts).toBe(3);
		// Resting: nothing scheduled, however long it waits.
		expect(clock.pending()).toEqual([]);
		clock.advance(60 * 60_000);
		expect(room.attempts).toBe(3);

		// The network comes back: it tries again at once, and succeeds.
		room.behaviour.refuseWith = null;
		wake.fire('online');
		expect(ws.status).toBe('reconnecting');
		await until(() => ws.connected, 'the wake-up connection');
		expect(ws.error).toBeNull();
	});

	test('a tab becoming visible retries at once instead of waiting out the backoff', async () => {
		room = new FakeRoom();
		const clock = new ManualClock();
		const wake = manualWake();
		const ws = client({ clock, wakeSignals: wake.signals });
		await ws.connect('r');

		room.behaviour.refuseWith = 503;
		room.closeAll(1012);
		expect(await stepRetries(ws, clock, 1)).toEqual([1_000]);
		await until(() => ws.nextRetry?.attempt === 2, 'the failed retry');
		expect(ws.nextRetry!.at - clock.now()).toBe(2_000);

		room.behaviour.refuseWith = null;
		wake.fire('visible');
		await until(() => ws.connected, 'the immediate retry');
		// The clock never reached the scheduled retry; that timer is gone, only the next ping is left.
		expect(clock.pending()).toEqual([30_000]);
		expect(room.accepted).toBe(2);
	});

	for (const [closeCode, code] of [
		[4401, 'unauthorized'],
		[4403, 'forbidden'],
		[4426, 'version_mismatch'],
	] as const) {
		test(`closed with ${closeCode} on join: connect() rejects with ClosedByRoom, no retry`, async () => {
			room = new FakeRoom();
			room.behaviour.sendList = false;
			room.behaviour.closeWith = closeCode;
			const clock = new ManualClock();
			const ws = client({ clock });
			const error = await ws.connect('r').catch((e) => e);
			expect(error).toBeInstanceOf(ClosedByRoom);
			expect(error).toMatchObject({ code, closeCode });
			expect(ws.error).toBe(error);
			expect(ws.status).toBe('disconnected');
			expect(clock.pending()).toEqual([]);
			expect(room.attempts).toBe(1);
		});
	}
});

describe('the upgrade URL', () => {
	test("states the client's wire version, keeping the app's own query", async () => {
		room = new FakeRoom();
		const ws = client({ url: (r) => `${room.url}socket?room=${r}&token=a%20b&${WIRE_PARAM}=0` });
		await ws.connect('r');
		const url = new URL(room.urls[0]!);
		expect([url.pathname, url.searchParams.get('room'), url.searchParams.get('token')]).toEqual(['/socket', 'r', 'a b']);
		// Set, not added: a stale value in the app's URL cannot make the server refuse the page.
		expect(url.searchParams.getAll(WIRE_PARAM)).toEqual([String(WIRE_VERSION)]);
	});
});

describe('configuration that cannot work', () => {
	test('a URL the WebSocket refuses stops at once with a bad_url error instead of retrying', async () => {
		const clock = new ManualClock();
		const ws = new WebsocketClient({ WebSocket, url: () => 'not a url', clock });
		clients.push(ws);
		const error = await ws.connect('r').catch((e) => e);
		expect(error).toMatchObject({ code: 'bad_url' });
		expect(ws.error).toBe(error);
		expect(ws.status).toBe('disconnected');
		expect(clock.pending()).toEqual([]);
	});

	test('without a url option outside a browser, the same-origin default explains itself', async () => {
		const ws = new WebsocketClient({ WebSocket, clock: new ManualClock() });
		clients.push(ws);
		const error = await ws.connect('r').catch((e) => e);
		expect(error).toMatchObject({ code: 'bad_url' });
		expect(error.message).toContain('pass `url` to WebsocketClient');
	});
});
