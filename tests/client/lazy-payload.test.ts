/**
 * The payload decoder off the first load (`client/payload-codec.ts`): plain JSON payloads decode at
 * once, one with `meta` (a Date, a Map…) waits for the decoder chunk without reordering anything,
 * against the real room in workerd. The loader is replaced here by one the test holds back or makes
 * fail, and starts out not loaded.
 */
import { describe, expect, test } from 'bun:test';
import { encodeCalls } from '../../calls/batch.js';
import { RoomConnection } from '../../client/connection.js';
import type { RoomError } from '../../client/headless.js';
import { payloadChunk } from '../../client/payload-codec.js';
import { PROTOCOL_VERSION, type TabMessage, type WorkerMessage } from '../../client/shared/protocol.js';
import { WebsocketClient } from '../../client/websocket-client.svelte.js';
import { eventLine, eventsFrame, pushFrame } from '../../rpc/frame.js';
import { encodePayload } from '../../rpc/payload.js';
import { joinInOrder } from '../support/clients.js';
import { controlChunk } from '../support/chunk-loader.js';
import { headlessRoomFile } from '../support/headless.js';

const rooms = headlessRoomFile('lazy-payload');
const { freshRoom, client } = rooms;
const chunk = controlChunk(payloadChunk);

describe('payloads that need the decoder wait for it, in order', () => {
	test('a Date event arriving before the decoder comes after the plain one before it and before the plain one after it', async () => {
		chunk.gate = Promise.withResolvers();
		const room = freshRoom();
		let onLine: ((line: string) => void) | undefined;
		const [ann, bob] = await joinInOrder(room, client({ user_id: 'ann' }), client({ user_id: 'bob' }, { debug: (line) => onLine?.(line) }));
		const thirdArrived = new Promise<void>((resolve) => (onLine = (line) => line.startsWith('←') && line.includes('"n":3') && resolve()));
		const got: unknown[] = [];
		const three = new Promise<void>((resolve) => bob.on('rich', (data) => got.push(data) === 3 && resolve()));

		await ann.send('relay', { n: 1 } as never);
		await ann.send('relay', { at: new Date(2) } as never);
		await ann.send('relay', { n: 3 } as never);
		// All three frames reached bob; the decoder is still held back.
		await thirdArrived;
		expect(got).toEqual([{ n: 1 }]);

		chunk.gate!.resolve();
		await three;
		expect(got).toEqual([{ n: 1 }, { at: new Date(2) }, { n: 3 }]);
	});

	test("a send whose answer needs the decoder resolves once it is there, in order with the client's other sends", async () => {
		chunk.gate = Promise.withResolvers();
		const ann = client({ user_id: 'ann' });
		await ann.connect(freshRoom());
		const order: string[] = [];
		const rich = ann.send('echo', { at: new Date(5), m: new Map([['a', 1]]) } as never).then((value) => (order.push('rich'), value));
		const plain = ann.send('echo', { n: 1 } as never).then((value) => (order.push('plain'), value));
		chunk.gate!.resolve();
		expect(await rich).toEqual({ at: new Date(5), m: new Map([['a', 1]]) });
		expect(await plain).toEqual({ n: 1 });
		expect(order).toEqual(['rich', 'plain']);
	});
});

describe('one frame of several events', () => {
	// The room writes several events in one frame (a catch-up, say): a server here sends exactly
	// that frame, with a Date event between two plain ones, and its closing notice in the next frame.
	test('the events and frames after a payload that waits for the decoder wait too, in order', async () => {
		chunk.gate = Promise.withResolvers();
		const events = eventsFrame([{ n: 1 }, { at: new Date(2) }, { n: 3 }].map((data) => eventLine('rich', encodePayload(data))));
		const closing = pushFrame(encodeCalls([['closing', 4000, 'done']]));
		const server = Bun.serve({
			port: 0,
			fetch: (request, srv) => (srv.upgrade(request) ? undefined : new Response('no', { status: 400 })),
			websocket: { open: (ws) => void (ws.send(events), ws.send(closing)), message() {} },
		});
		const got: unknown[] = [];
		const arrived = Promise.withResolvers<void>();
		const closed = Promise.withResolvers<void>();
		const connection = new RoomConnection(
			`ws://127.0.0.1:${server.port}`,
			{ onEvent: (_name, data) => got.push(data), onClose: (code) => (got.push(code), closed.resolve()) },
			{ debug: (line) => line.startsWith('←') && arrived.resolve() },
		);
		await arrived.promise;
		expect(got).toEqual([{ n: 1 }]);
		chunk.gate!.resolve();
		await closed.promise;
		expect(got).toEqual([{ n: 1 }, { at: new Date(2) }, { n: 3 }, 4000]);
		connection.close();
		server.stop(true);
	});
});

describe('a connection that ended', () => {
	test('delivers nothing more: an event held behind the decoder when the socket was let go goes nowhere', async () => {
		chunk.gate = Promise.withResolvers();
		const events = eventsFrame([{ n: 1 }, { at: new Date(2) }].map((data) => eventLine('rich', encodePayload(data))));
		const server = Bun.serve({
			port: 0,
			fetch: (request, srv) => (srv.upgrade(request) ? undefined : new Response('no', { status: 400 })),
			websocket: { open: (ws) => void ws.send(events), message() {} },
		});
		const got: unknown[] = [];
		const arrived = Promise.withResolvers<void>();
		const connection = new RoomConnection(
			`ws://127.0.0.1:${server.port}`,
			{ onEvent: (_name, data) => got.push(data) },
			{ debug: (line) => line.startsWith('←') && arrived.resolve() },
		);
		await arrived.promise;
		expect(got).toEqual([{ n: 1 }]);
		// Let go (as a transport does when its keep-alive gives up), then the decoder arrives.
		connection.abandon(1000, 'replaced');
		chunk.gate!.resolve();
		await payloadChunk.load();
		await new Promise((resolve) => setTimeout(resolve, 0));
		expect(got).toEqual([{ n: 1 }]);
		server.stop(true);
	});
});

describe('a decoder that cannot be loaded', () => {
	test('turns the event into a clear error event, delivers the plain ones around it, and a later one loads it', async () => {
		chunk.mode = 'offline';
		const room = freshRoom();
		const [ann, bob] = await joinInOrder(room, client({ user_id: 'ann' }), client({ user_id: 'bob' }));
		const events: unknown[] = [];
		let counted: { n: number; resolve: () => void } | undefined;
		const count = (n: number) => new Promise<void>((resolve) => (counted = { n, resolve }));
		const record = (data: unknown) => events.push(data) === counted?.n && counted.resolve();
		bob.on('rich', record);
		bob.on('error', record);

		const three = count(3);
		await ann.send('relay', { n: 1 } as never);
		await ann.send('relay', { at: new Date(2) } as never);
		await ann.send('relay', { n: 3 } as never);
		await three;
		expect(events[0]).toEqual({ n: 1 });
		expect(events[1]).toMatchObject({
			code: 'payload_unavailable',
			message: expect.stringContaining('could not be loaded: Failed to fetch dynamically imported module'),
		});
		expect(events[2]).toEqual({ n: 3 });

		chunk.mode = 'real';
		const four = count(4);
		await ann.send('relay', { at: new Date(4) } as never);
		await four;
		expect(events[3]).toEqual({ at: new Date(4) });
		expect(chunk.asked.at(-1)).toBe('real');
	});

	test('rejects a send whose answer needs it with payload_unavailable; the next send loads it', async () => {
		chunk.mode = 'offline';
		const ann = client({ user_id: 'ann' });
		await ann.connect(freshRoom());
		const failed = (await ann.send('echo', { at: new Date(1) } as never).catch((error: unknown) => error)) as RoomError;
		expect(failed.code).toBe('payload_unavailable');
		expect(failed.message).toContain('could not be loaded');
		// Plain answers need no decoder.
		expect(await ann.send('echo', { n: 1 } as never)).toEqual({ n: 1 });
		chunk.mode = 'real';
		expect(await ann.send('echo', { at: new Date(1) } as never)).toEqual({ at: new Date(1) });
	});
});

describe("the tab's side of the shared connection", () => {
	// The worker's end of the port is scripted here: an in-process hub would share this process's
	// decoder with the tab, and so wait for it before the tab could.
	test('a Date event from the worker waits for the decoder, between the plain events around it', async () => {
		chunk.gate = Promise.withResolvers();
		const channel = new MessageChannel();
		const post = (message: WorkerMessage) => channel.port2.postMessage(message);
		const joined = Promise.withResolvers<number>();
		channel.port2.onmessage = ({ data }: MessageEvent<TabMessage>) => {
			if (data.type === 'hello') post({ type: 'welcome', version: PROTOCOL_VERSION });
			if (data.type === 'join') joined.resolve(data.join);
		};
		const tab = new WebsocketClient({ sharedWorker: () => channel.port1, url: () => 'ws://127.0.0.1:9/room' });
		const got: unknown[] = [];
		tab.on('rich' as never, (data: unknown) => got.push(data));
		const connected = tab.connect('room');
		const join = await joined.promise;
		post({ type: 'status', join, status: 'connected', change: { room: 'room' } });
		await connected;

		let arrived = 0;
		const allArrived = new Promise<void>((resolve) =>
			channel.port1.addEventListener('message', ({ data }) => (data as WorkerMessage).type === 'event' && ++arrived === 3 && resolve()),
		);
		for (const data of [{ n: 1 }, { at: new Date(2) }, { n: 3 }]) post({ type: 'event', join, name: 'rich', payload: encodePayload(data) });
		await allArrived;
		expect(got).toEqual([{ n: 1 }]);

		const three = new Promise<void>((resolve) => tab.on('rich' as never, () => got.length === 3 && resolve()));
		chunk.gate!.resolve();
		await three;
		expect(got).toEqual([{ n: 1 }, { at: new Date(2) }, { n: 3 }]);
		tab.destroy();
		channel.port2.close();
	});
});
