/**
 * The direct socket off the first load (`client/loading-transport.ts`): a client with a socket of its
 * own builds it from a chunk loaded on demand. Until the chunk is there the client is
 * `'connecting'`, its sends wait in order, and the socket takes them over once it arrives; a chunk
 * that cannot be loaded stops the join with `transport_unavailable`, and `connect()` tries again.
 * Against the real room in workerd; the loader is replaced by one the test holds back or makes fail.
 */
import { describe, expect, test } from 'bun:test';
import type { RoomError } from '../../client/headless.js';
import { socketChunk } from '../../client/loading-transport.js';
import { controlChunk } from '../support/chunk-loader.js';
import { headlessRoomFile } from '../support/headless.js';

const rooms = headlessRoomFile('lazy-socket');
const { freshRoom, client } = rooms;
const chunk = controlChunk(socketChunk);

describe('the direct socket comes as a chunk of its own', () => {
	test('sends made before the chunk arrives reach the room in order, before one made once connected', async () => {
		const room = freshRoom();
		const ann = client({ user_id: 'ann' });
		await ann.connect(room);
		const got: unknown[] = [];
		const four = new Promise<void>((resolve) => ann.on('rich', (data) => got.push(data) === 4 && resolve()));

		chunk.gate = Promise.withResolvers();
		socketChunk.forget();
		const bob = client({ user_id: 'bob' });
		const statuses: string[] = [];
		bob.on('ws:connected', () => void bob.send('relay', { n: 4 } as never));
		const joined = bob.connect(room);
		expect(bob.status).toBe('connecting');
		const sent = [1, 2, 3].map((n) => bob.send('relay', { n } as never));
		expect(await bob.rpc.echo('x').then(null, (error: RoomError) => error.code)).toBe('connection_lost');
		statuses.push(bob.status);
		expect(got).toEqual([]);

		chunk.gate!.resolve();
		await joined;
		await Promise.all(sent);
		await four;
		expect(statuses).toEqual(['connecting']);
		expect(got).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
		expect(await bob.rpc.echo('x')).toBe('x');
	});

	test('disconnect() before the chunk arrives ends the join: nothing connects later', async () => {
		chunk.gate = Promise.withResolvers();
		const room = freshRoom();
		const bob = client({ user_id: 'bob' });
		const joined = bob.connect(room).then(null, (error: RoomError) => error.code);
		const queued = bob.send('relay', { n: 1 } as never).then(null, (error: RoomError) => error.code);
		bob.disconnect();
		expect(await joined).toBe('connection_lost');
		expect(await queued).toBe('send_dropped');
		expect(bob.status).toBe('disconnected');

		chunk.gate!.resolve();
		expect(chunk.asked).toEqual(['real']);
		await import('../../client/socket-transport.js');
		// A macrotask: every promise handler the load queued has run.
		await new Promise((resolve) => setTimeout(resolve, 0));
		expect(bob.status).toBe('disconnected');
		// The next connect() uses the loaded chunk.
		await bob.connect(room);
		expect(bob.sessions.length).toBe(1);
	});

	test('a chunk that cannot be loaded stops the join with transport_unavailable; connect() tries again', async () => {
		chunk.mode = 'offline';
		const room = freshRoom();
		const bob = client({ user_id: 'bob' });
		const error = (await bob.connect(room).catch((e: unknown) => e)) as RoomError;
		expect(error.code).toBe('transport_unavailable');
		expect(error.message).toContain('Failed to fetch dynamically imported module');
		expect(bob.status).toBe('disconnected');
		expect(bob.error?.code).toBe('transport_unavailable');

		chunk.mode = 'real';
		await bob.connect(room);
		expect(bob.status).toBe('connected');
		// One load for building the client and its first join, one for the second join.
		expect(chunk.asked).toEqual(['offline', 'real']);
	});
});
