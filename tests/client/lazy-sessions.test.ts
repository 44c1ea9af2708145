/**
 * capnweb off the first load (`calls/sessions.ts`): the client loads capnweb's sessions only for a
 * call that needs one, against the real room in workerd. The loader is replaced here by one that
 * counts, fails, or waits on the test, and starts out not loaded.
 */
import { describe, expect, test } from 'bun:test';
import { RoomError } from '../../client/headless.js';
import { sessionChunk } from '../../calls/sessions.js';
import { SHORTCUT } from '../../calls/shortcut/switch.js';
import { joinInOrder } from '../support/clients.js';
import { controlChunk } from '../support/chunk-loader.js';
import { headlessRoomFile } from '../support/headless.js';

const rooms = headlessRoomFile('lazy');
const { freshRoom, client } = rooms;
const chunk = controlChunk(sessionChunk);

const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('capnweb is loaded only for what needs a session', () => {
	// Without the shortcut (NO_SHORTCUT=1) every call and event needs a session: only with it are
	// plain ones free of capnweb.
	test.if(SHORTCUT)('plain calls, sends and events work without it; it is fetched once connected', async () => {
		chunk.mode = 'offline';
		const room = freshRoom();
		const [ann, bob] = await joinInOrder(room, client({ user_id: 'ann' }), client({ user_id: 'bob' }));
		const heard = new Promise<{ text: string }>((resolve) => bob.once('chat:message', resolve));
		const relayed = new Promise<unknown>((resolve) => bob.once('rich', resolve));

		expect(await ann.rpc.add(1, 2)).toBe(3);
		expect(await ann.rpc.echo({ at: new Date(5), n: 10n, bytes: new Uint8Array([1, 2]) })).toEqual({ at: new Date(5), n: 10n, bytes: new Uint8Array([1, 2]) });
		expect(await ann.rpc.fail('sold_out').catch((e: unknown) => e)).toMatchObject({ code: 'sold_out', status: 409 });
		expect(await ann.send('echo', { at: new Date(5) })).toEqual({ at: new Date(5) });
		await ann.rpc.post('hello bob');
		expect((await heard).text).toBe('hello bob');
		await ann.send('relay', { at: new Date(7) });
		expect(await relayed).toEqual({ at: new Date(7) });

		// The prefetch once connected was the only ask, and it never got capnweb.
		expect(chunk.asked.length).toBeGreaterThan(0);
		expect(chunk.asked.every((how) => how === 'offline')).toBe(true);
		expect(sessionChunk.now()).toBeUndefined();
	});

	test('a pipelined call right after connecting loads it and works', async () => {
		const ann = client({ user_id: 'ann' });
		await ann.connect(freshRoom());
		const [value, sum] = await Promise.all([ann.rpc.counter(1).increment(2).value(), ann.rpc.add(2, 2)]);
		expect(value).toBe(3);
		expect(sum).toBe(4);
		expect(sessionChunk.now()).toBeDefined();
		expect(chunk.asked).toEqual(['real']);
	});

	test.if(SHORTCUT)('a failed load fails the call that needed it with a clear error; a later call loads it', async () => {
		chunk.mode = 'offline';
		const ann = client({ user_id: 'ann' });
		await ann.connect(freshRoom());
		const failed = await ann.rpc
			.counter(1)
			.increment(2)
			.value()
			.catch((e: unknown) => e);
		expect(failed).toBeInstanceOf(RoomError);
		expect(failed).toMatchObject({ code: 'sessions_unavailable' });
		expect((failed as Error).message).toContain('Failed to fetch dynamically imported module');
		// The socket is fine: plain calls go on (from the next batch: this one failed whole).
		await macrotask();
		expect(await ann.rpc.add(1, 1)).toBe(2);

		chunk.mode = 'real';
		expect(await ann.rpc.counter(1).increment(2).value()).toBe(3);
		expect(chunk.asked.at(-1)).toBe('real');
	});

	test('calls made while it loads reach the room in the order they were made', async () => {
		const room = freshRoom();
		const ann = client({ user_id: 'ann' });
		await ann.connect(room);
		sessionChunk.forget();
		chunk.gate = Promise.withResolvers();
		// The first batch needs a session and waits for capnweb; the plain ones after it wait their turn.
		const first = ann.rpc
			.counter(1)
			.increment(1)
			.value()
			.then((n) => n);
		void ann.send('log', 1);
		await macrotask();
		const second = ann.send('log', 2);
		await macrotask();
		const third = ann.rpc.add(1, 2);
		chunk.gate.resolve();
		expect(await Promise.all([first, second, third])).toEqual([2, undefined, 3]);
		expect(await rooms.worker.rpc(room, 'messages')).toEqual([1, 2]);
	});
});
