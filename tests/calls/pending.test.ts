/**
 * The client's batch bookkeeping without a room: one timer serves every pending batch, each batch
 * still times out on its own deadline, a batch that cannot be sent fails its calls, and a batch that
 * pulls nothing waits for nothing.
 */
import { expect, test } from 'bun:test';
import { CallBatcher } from '../../calls/call-batcher.js';
import { PendingBatches } from '../../calls/pending-batches.js';
import { CallTimeout, ConnectionLost, RoomError } from '../../rpc/errors.js';

/** A batch whose first call is awaited (the `pull` asks the room for an answer). */
const awaited = (line: string) => [line, '["pull",1]'];

const settled = <T>(promise: Promise<T>) =>
	promise.then(
		(value) => ({ value }),
		(error: unknown) => ({ error }),
	);

test('each batch times out on its own deadline; answered ones never do', async () => {
	const frames: string[] = [];
	const pending = new PendingBatches((frame) => (frames.push(frame), true), { timeoutMs: 60_000 });
	const slow = settled(pending.send(awaited('a')));
	pending.timeoutMs = 20;
	const fast = settled(pending.send(awaited('b')));
	const answered = settled(pending.send(awaited('c')));
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
	const first = settled(pending.send(awaited('a')));
	expect(await first).toEqual({ error: expect.any(CallTimeout) });
	pending.resolve(1, ['too late']);
	// The timer keeps serving batches sent after it last fired.
	expect(await settled(pending.send(awaited('b')))).toEqual({ error: expect.any(CallTimeout) });
});

test('failAll rejects everything still waiting', async () => {
	const pending = new PendingBatches(() => true);
	const calls = [settled(pending.send(awaited('a'))), settled(pending.send(awaited('b')))];
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

test('a batch that pulls nothing is sent, resolves with no answers at once, and its refusal still reaches its handler', async () => {
	const frames: string[] = [];
	const pending = new PendingBatches((frame) => (frames.push(frame), true), { timeoutMs: 10 });
	const ownHandler: RoomError[] = [];
	expect(await pending.send(['["push",["pipeline",0,["post"],["hi"]]]'], (error) => ownHandler.push(error))).toEqual([]);
	expect(pending.size).toBe(0);
	expect(frames).toEqual(['c1\n["push",["pipeline",0,["post"],["hi"]]]']);
	// Nobody waits on it, but its own handler (a SharedWorker's tab) still hears of a refusal; a
	// batch without one reports to the connection (the `error` event).
	const reported: RoomError[] = [];
	const refusal = new RoomError('unknown_method', 'The room has no method "post"', 404);
	pending.refuse(1, refusal, (error) => reported.push(error));
	expect([reported, ownHandler]).toEqual([[], [refusal]]);
	expect(await pending.send(['["push",["pipeline",0,["post"],["hi"]]]'])).toEqual([]);
	pending.refuse(2, refusal, (error) => reported.push(error));
	expect([reported, ownHandler]).toEqual([[refusal], [refusal]]);
	// No socket: it fails at once, as any batch.
	const closed = new PendingBatches(() => false);
	expect(await settled(closed.send(['["push",["pipeline",0,["post"],["hi"]]]']))).toEqual({ error: expect.any(ConnectionLost) });
});
