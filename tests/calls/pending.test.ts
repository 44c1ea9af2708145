/**
 * The client's batch bookkeeping without a room: one timer serves every pending batch, each batch
 * still times out on its own deadline, and a batch that cannot be sent fails its calls.
 */
import { expect, test } from 'bun:test';
import { CallBatcher, PendingBatches } from '../../calls/call-batcher.js';
import { CallTimeout, ConnectionLost } from '../../rpc/errors.js';

const settled = <T>(promise: Promise<T>) => promise.then((value) => ({ value }), (error: unknown) => ({ error }));

test('each batch times out on its own deadline; answered ones never do', async () => {
	const frames: string[] = [];
	const pending = new PendingBatches((frame) => (frames.push(frame), true), { timeoutMs: 60_000 });
	const slow = settled(pending.send(['a']));
	pending.timeoutMs = 20;
	const fast = settled(pending.send(['b']));
	const answered = settled(pending.send(['c']));
	pending.resolve(3, ['answer']);

	expect(await fast).toEqual({ error: expect.any(CallTimeout) });
	expect(pending.size).toBe(1); // the first batch keeps its own, later deadline
	expect(await answered).toEqual({ value: ['answer'] });
	pending.resolve(1, ['late but in time']);
	expect(await slow).toEqual({ value: ['late but in time'] });
	expect(frames.map((f) => f.split('\n')[0])).toEqual(['c1', 'c2', 'c3']);
});

test('a timed-out batch stays timed out when its answer comes later', async () => {
	const pending = new PendingBatches(() => true, { timeoutMs: 10 });
	const first = settled(pending.send(['a']));
	expect(await first).toEqual({ error: expect.any(CallTimeout) });
	pending.resolve(1, ['too late']);
	// The timer keeps serving batches sent after it last fired.
	expect(await settled(pending.send(['b']))).toEqual({ error: expect.any(CallTimeout) });
});

test('failAll rejects everything still waiting', async () => {
	const pending = new PendingBatches(() => true);
	const calls = [settled(pending.send(['a'])), settled(pending.send(['b']))];
	pending.failAll();
	for (const call of calls) expect(await call).toEqual({ error: expect.any(ConnectionLost) });
	expect(pending.size).toBe(0);
});

test('a batch that cannot be handed over fails its calls, whether sendBatch throws or rejects', async () => {
	const boom = new Error('no channel');
	const throwing = new CallBatcher<{ echo(x: number): Promise<number> }>(() => {
		throw boom;
	});
	expect(await settled(throwing.main.echo(1))).toEqual({ error: boom });
	const rejecting = new CallBatcher<{ echo(x: number): Promise<number> }>(() => Promise.reject(boom));
	expect(await settled(rejecting.main.echo(1))).toEqual({ error: boom });
});
