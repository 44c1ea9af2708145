/**
 * `JoinLifecycle` on its own: the states and transitions both transports share, driven through a
 * link that records what it is asked and answers sends at once. The transports are tested against
 * the room in client.test.ts (direct socket) and shared.test.ts (SharedWorker, Chromium).
 */
import { describe, expect, test } from 'bun:test';
import { SendDropped } from '../../client/errors.js';
import { JoinLifecycle, type JoinLink } from '../../client/join-lifecycle.js';
import type { ConnectionStatus, StatusChange, TransportHandlers } from '../../client/transport.js';
import { ConnectionLost, RoomError } from '../../rpc/errors.js';

/** A lifecycle over a link that logs `join`, `send` and `leave`, and a listener that logs statuses and warnings. */
function harness(sendQueueSize?: number) {
	const log: string[] = [];
	const changes: StatusChange[] = [];
	/** What each status listener does after logging, e.g. send or leave (set by a test). */
	const onStatus: { then?: (status: ConnectionStatus) => void } = {};
	const listener: TransportHandlers = {
		status: (status, change) => {
			log.push(`status:${status}`);
			changes.push(change);
			onStatus.then?.(status);
		},
		event: (name) => log.push(`event:${name}`),
		warning: (warning) => log.push(`warning:${warning.code}:${warning.event}`),
	};
	const link: JoinLink = {
		join: (room) => {
			log.push(`join:${room}`);
			lifecycle.attempting('connecting');
		},
		send: (event, data) => {
			log.push(`send:${event}`);
			return Promise.resolve(data);
		},
		leave: () => void log.push('leave'),
	};
	const lifecycle = new JoinLifecycle(listener, link, sendQueueSize);
	return { lifecycle, log, changes, onStatus };
}

/** How a promise settled, once it has: `'resolved'` or the rejection. */
async function settled(promise: Promise<unknown>): Promise<unknown> {
	return promise.then(
		() => 'resolved',
		(error: unknown) => error,
	);
}

describe('JoinLifecycle', () => {
	test('connect() asks the link once per join; every connect() of that join shares its promise', async () => {
		const { lifecycle, log } = harness();
		const first = lifecycle.connect('a');
		expect(lifecycle.connect('a')).toBe(first);
		expect(lifecycle.status).toBe('connecting');
		expect(lifecycle.room).toBe('a');
		lifecycle.joined();
		await first;
		expect(await settled(lifecycle.connect('a'))).toBe('resolved');
		expect(log).toEqual(['join:a', 'status:connecting', 'status:connected']);
	});

	test('joined(): queued sends leave oldest first, before "connected"; a send made hearing "connected" comes after them', async () => {
		const { lifecycle, log, onStatus } = harness();
		const joined = lifecycle.connect('a');
		const queued = [lifecycle.send('one', 1), lifecycle.send('two', 2)];
		expect(log).toEqual(['join:a', 'status:connecting']); // nothing sent while joining
		let fromListener: Promise<unknown> | undefined;
		onStatus.then = (status) => {
			if (status === 'connected') fromListener = lifecycle.send('three', 3);
		};
		lifecycle.joined();
		expect(log.slice(2)).toEqual(['send:one', 'send:two', 'status:connected', 'send:three']);
		expect(await Promise.all([...queued, fromListener])).toEqual([1, 2, 3]);
		expect(await settled(joined)).toBe('resolved');
	});

	test('a listener that switches rooms on hearing "connected" ends that join: its connect() rejects, the new one waits', async () => {
		const { lifecycle, log, onStatus } = harness();
		const toA = lifecycle.connect('a');
		let toB: Promise<void> | undefined;
		onStatus.then = (status) => {
			if (status === 'connected') toB = lifecycle.connect('b');
		};
		lifecycle.joined();
		expect(log).toEqual(['join:a', 'status:connecting', 'status:connected', 'leave', 'status:disconnected', 'join:b', 'status:connecting']);
		const error = await settled(toA);
		expect(error).toBeInstanceOf(ConnectionLost);
		expect((error as Error).message).toContain('switched to room "b"');
		let bSettled = false;
		toB!.finally(() => (bSettled = true));
		await Promise.resolve();
		expect(bSettled).toBe(false); // room b has not let us in yet
		onStatus.then = undefined;
		lifecycle.joined();
		expect(await settled(toB!)).toBe('resolved');
	});

	test('stopped(): queued sends and connect() fail with the reason, the room is kept, and connect() starts over', async () => {
		const kicked = new RoomError('kicked', 'Removed from the room', 403);
		const { lifecycle, log, changes } = harness();
		const joined = lifecycle.connect('a');
		const queued = lifecycle.send('one', 1);
		lifecycle.stopped(kicked, { closeCode: 4001, closeReason: 'bye' });
		expect(lifecycle.status).toBe('disconnected');
		expect(lifecycle.room).toBe('a');
		expect(changes.at(-1)).toEqual({ room: 'a', error: kicked, closeCode: 4001, closeReason: 'bye' });
		expect(await settled(joined)).toBe(kicked);
		const dropped = await settled(queued);
		expect(dropped).toBeInstanceOf(SendDropped);
		expect((dropped as Error).message).toContain('Removed from the room');

		const again = lifecycle.connect('a');
		expect(again).not.toBe(joined);
		expect(log.slice(-2)).toEqual(['join:a', 'status:connecting']); // same room, no leave
		lifecycle.joined();
		expect(await settled(again)).toBe('resolved');
	});

	test('a listener that connects again on hearing "disconnected" starts a join the old failure leaves alone', async () => {
		const { lifecycle, onStatus } = harness();
		const first = lifecycle.connect('a');
		let second: Promise<void> | undefined;
		onStatus.then = (status) => {
			if (status === 'disconnected') second = lifecycle.connect('a');
		};
		const stop = new RoomError('retries_exhausted', 'gave up', 503);
		lifecycle.stopped(stop);
		expect(await settled(first)).toBe(stop);
		expect(second).not.toBe(first);
		expect(lifecycle.status).toBe('connecting');
		lifecycle.joined();
		expect(await settled(second!)).toBe('resolved');
	});

	test('switching rooms leaves the old one first: its link, its sends and its connect() go, "disconnected" names it', async () => {
		const { lifecycle, log, changes } = harness();
		const toA = lifecycle.connect('a');
		const queued = lifecycle.send('one', 1);
		const toB = lifecycle.connect('b');
		expect(toB).not.toBe(toA);
		expect(log).toEqual(['join:a', 'status:connecting', 'leave', 'status:disconnected', 'join:b', 'status:connecting']);
		expect(changes[1]).toEqual({ room: 'a', error: null, closeCode: 1000, closeReason: 'switched to room "b"' });
		expect(changes[2]!.room).toBe('b');
		expect(await settled(toA)).toBeInstanceOf(ConnectionLost);
		expect(await settled(queued)).toBeInstanceOf(SendDropped);
		lifecycle.joined();
		expect(await settled(toB)).toBe('resolved');
	});

	test('leave() with no room does nothing; after it, send() refuses and nothing is queued', async () => {
		const { lifecycle, log } = harness();
		lifecycle.leave('nothing to leave');
		expect(log).toEqual([]);
		lifecycle.connect('a');
		lifecycle.joined();
		lifecycle.leave('disconnect() was called');
		expect(lifecycle.room).toBeNull();
		expect(await settled(lifecycle.send('late', 0))).toBeInstanceOf(ConnectionLost);
		expect(log.filter((line) => line.startsWith('send:'))).toEqual([]);
	});

	test('a full queue drops the oldest send and warns', async () => {
		const { lifecycle, log } = harness(1);
		lifecycle.connect('a');
		const oldest = lifecycle.send('old', 1);
		const newest = lifecycle.send('new', 2);
		expect(await settled(oldest)).toBeInstanceOf(SendDropped);
		expect(log.at(-1)).toBe('warning:send_queue_full:old');
		lifecycle.joined();
		expect(await newest).toBe(2);
	});

	test('handOver(): the queued sends go to whoever takes over, connect() fails, no status is reported', async () => {
		const { lifecycle, log } = harness();
		const joined = lifecycle.connect('a');
		lifecycle.send('one', 1);
		const error = new RoomError('shared_worker_unavailable', 'gone', 0);
		let handed: string[] = [];
		lifecycle.handOver(error, (queued) => (handed = queued.map((entry) => entry.event)));
		expect(handed).toEqual(['one']);
		expect(await settled(joined)).toBe(error);
		expect(log).toEqual(['join:a', 'status:connecting']);
	});

	test('destroy(): connect() refuses from then on, without asking the link', async () => {
		const { lifecycle, log } = harness();
		lifecycle.destroy();
		const error = await settled(lifecycle.connect('a'));
		expect(error).toBeInstanceOf(RoomError);
		expect((error as RoomError).code).toBe('destroyed');
		expect(log).toEqual([]);
	});
});
