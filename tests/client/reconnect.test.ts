import { describe, expect, test } from 'bun:test';
import { ClosedByRoom, RetriesExhausted } from '../../client/errors.js';
import { KeepAlive } from '../../client/keepalive.js';
import { ReconnectPolicy } from '../../client/reconnect.js';
import { CloseCode } from '../../rpc/protocol.js';
import { ManualClock } from '../support/manual-clock.js';

/** A random source that returns `value` every time: 0.5 means "no jitter". */
const fixed = (value: number) => () => value;

/** Closes `n` times in a row (never connected in between) and returns the delays. */
function delays(policy: ReconnectPolicy, n: number, now = 0): number[] {
	const out: number[] = [];
	for (let i = 0; i < n; i++) {
		const d = policy.closed(1006, '', now);
		if (d.action !== 'retry') throw new Error(`stopped after ${i} retries`);
		out.push(d.delayMs);
	}
	return out;
}

describe('ReconnectPolicy', () => {
	test('1 s doubling to a 30 s cap', () => {
		expect(delays(new ReconnectPolicy({}, fixed(0.5)), 8)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
	});

	test('jitter stays within ±30 % of the capped delay', () => {
		expect(delays(new ReconnectPolicy({}, fixed(0)), 7)).toEqual([700, 1_400, 2_800, 5_600, 11_200, 21_000, 21_000]);
		expect(delays(new ReconnectPolicy({}, fixed(0.999999)), 7)).toEqual([1_300, 2_600, 5_200, 10_400, 20_800, 39_000, 39_000]);
		// A real random source lands in between, and differs between clients.
		const spread = new Set<number>();
		for (let i = 0; i < 50; i++) {
			const [first] = delays(new ReconnectPolicy(), 1);
			expect(first).toBeGreaterThanOrEqual(700);
			expect(first).toBeLessThanOrEqual(1_300);
			spread.add(first!);
		}
		expect(spread.size).toBeGreaterThan(1);
	});

	test('gives up after maxAttempts retries with RetriesExhausted, then starts over', () => {
		const policy = new ReconnectPolicy({}, fixed(0.5));
		expect(delays(policy, 20)).toHaveLength(20);
		const stop = policy.closed(1006, '', 0);
		expect(stop.action).toBe('stop');
		const error = (stop as { error: RetriesExhausted }).error;
		expect(error).toBeInstanceOf(RetriesExhausted);
		expect(error.attempts).toBe(20);
		expect(error.lastCloseCode).toBe(1006);
		expect(error.code).toBe('retries_exhausted');
		// Woken up later (online, visible, connect()): a fresh schedule.
		expect(delays(policy, 2)).toEqual([1_000, 2_000]);
	});

	test('the counter resets only after a connection stayed up stableAfterMs', () => {
		const policy = new ReconnectPolicy({ stableAfterMs: 10_000 }, fixed(0.5));
		let t = 0;
		expect(delays(policy, 3, t)).toEqual([1_000, 2_000, 4_000]);

		// Accept-then-close: up for 9.999 s is not "stable", so the backoff keeps growing.
		policy.connected((t += 1_000));
		expect(policy.closed(1006, '', (t += 9_999))).toEqual({ action: 'retry', delayMs: 8_000, attempt: 4 });
		policy.connected((t += 100));
		expect(policy.closed(1000, '', (t += 10))).toEqual({ action: 'retry', delayMs: 16_000, attempt: 5 });

		// Up for 10 s: the next drop starts from 1 s again.
		policy.connected((t += 100));
		expect(policy.closed(1006, '', (t += 10_000))).toEqual({ action: 'retry', delayMs: 1_000, attempt: 1 });
		// ...and a failed attempt after that does not count the old connection again.
		expect(policy.closed(1006, '', (t += 60_000))).toEqual({ action: 'retry', delayMs: 2_000, attempt: 2 });
	});

	test('terminal close codes stop at once with ClosedByRoom', () => {
		const cases: Array<[number, string, number]> = [
			[CloseCode.Kicked, 'kicked', 403],
			[CloseCode.Unauthorized, 'unauthorized', 401],
			[CloseCode.Forbidden, 'forbidden', 403],
			[CloseCode.VersionMismatch, 'version_mismatch', 426],
		];
		for (const [closeCode, code, status] of cases) {
			const policy = new ReconnectPolicy({}, fixed(0.5));
			delays(policy, 3);
			const d = policy.closed(closeCode, 'because', 0);
			expect(d.action).toBe('stop');
			const error = (d as { error: ClosedByRoom }).error;
			expect(error).toBeInstanceOf(ClosedByRoom);
			expect({ code: error.code, status: error.status, closeCode: error.closeCode, reason: error.reason }).toEqual({
				code,
				status,
				closeCode,
				reason: 'because',
			});
		}
		// Everything else is retried: normal closes, service restarts, internal errors, 1006.
		for (const closeCode of [1000, 1001, 1006, 1011, 1012, 4000]) {
			expect(new ReconnectPolicy().closed(closeCode, '', 0).action).toBe('retry');
		}
	});

	test('every option is configurable, including the terminal codes', () => {
		const policy = new ReconnectPolicy({ baseDelayMs: 10, maxDelayMs: 50, jitter: 0, maxAttempts: 4, terminalCloseCodes: new Set([4999]) }, fixed(0.9));
		expect(delays(policy, 4)).toEqual([10, 20, 40, 50]);
		expect(policy.closed(1006, '', 0).action).toBe('stop');
		expect(policy.closed(CloseCode.Kicked, '', 0).action).toBe('retry');
		expect(policy.closed(4999, '', 0).action).toBe('stop');
	});
});

describe('KeepAlive', () => {
	function setup() {
		const clock = new ManualClock();
		const log: string[] = [];
		const keepAlive = new KeepAlive(
			clock,
			{ pingIntervalMs: 30_000, pongTimeoutMs: 10_000 },
			() => (log.push(`ping@${clock.now() - 1_000_000}`), true),
			() => log.push(`dead@${clock.now() - 1_000_000}`),
		);
		return { clock, log, keepAlive };
	}

	test('pings every interval while pongs come back', () => {
		const { clock, log, keepAlive } = setup();
		keepAlive.start();
		clock.advance(29_999);
		expect(log).toEqual([]);
		clock.advance(1);
		expect(log).toEqual(['ping@30000']);
		clock.advance(3_000);
		keepAlive.pong();
		clock.advance(30_000);
		expect(log).toEqual(['ping@30000', 'ping@63000']);
	});

	test('no pong within the timeout declares the socket dead, once', () => {
		const { clock, log, keepAlive } = setup();
		keepAlive.start();
		clock.advance(30_000 + 9_999);
		expect(log).toEqual(['ping@30000']);
		clock.advance(1);
		expect(log).toEqual(['ping@30000', 'dead@40000']);
		clock.advance(120_000);
		expect(log).toHaveLength(2);
	});

	test('a socket that cannot take a ping is dead at once', () => {
		const clock = new ManualClock();
		let dead = 0;
		const keepAlive = new KeepAlive(
			clock,
			{ pingIntervalMs: 30_000, pongTimeoutMs: 10_000 },
			() => false,
			() => dead++,
		);
		keepAlive.start();
		clock.advance(29_999);
		expect(dead).toBe(0);
		clock.advance(1);
		expect(dead).toBe(1);
		expect(clock.pending()).toEqual([]);
	});

	test('probe pings at once; stop cancels everything', () => {
		const { clock, log, keepAlive } = setup();
		keepAlive.start();
		clock.advance(5_000);
		keepAlive.probe();
		keepAlive.probe(); // already waiting for a pong: no second ping
		expect(log).toEqual(['ping@5000']);
		keepAlive.stop();
		clock.advance(120_000);
		expect(log).toEqual(['ping@5000']);
		expect(clock.pending()).toEqual([]);
	});
});
