/**
 * `SocketTransport` on its own, as a SharedWorker would drive it: what it reports to its listener,
 * and a batch of calls gathered by another `CallBatcher` (a tab's) carried to the room and back.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { SocketTransport } from '../../client/socket-transport.js';
import type { ConnectionStatus, TransportHandlers } from '../../client/transport.js';
import { CallBatcher } from '../../calls/call-batcher.js';
import { ConnectionLost } from '../../rpc/errors.js';
import { PONG } from '../../rpc/frame.js';
import type { RoomRpc } from '../../rpc/types.js';
import { ManualClock } from '../support/manual-clock.js';
import { startRoomWorker, type RoomWorker } from '../support/workerd.js';
import type { TestApi } from '../worker/index.js';

let worker: RoomWorker;
beforeAll(async () => (worker = await startRoomWorker()));
afterAll(() => worker.dispose());

function recordingListener() {
	const log: string[] = [];
	const listener: TransportHandlers = {
		status: (status: ConnectionStatus, change) => log.push(`status:${status}${change.error ? `:${change.error.code}` : ''}`),
		event: (name) => log.push(`event:${name}`),
		warning: (w) => log.push(`warning:${w.code}`),
	};
	return { log, listener };
}

test('reports status and events in order: the session list before "connected"', async () => {
	const room = `transport-${Date.now()}`;
	const { log, listener } = recordingListener();
	const transport = new SocketTransport(listener, { url: (r) => worker.connectUrl(r, { user_id: 'ann' }), WebSocket, clock: new ManualClock() });
	await transport.connect(room);
	expect(log.slice(0, 3)).toEqual(['status:connecting', 'event:session:list', 'status:connected']);
	transport.disconnect();
	expect(log.at(-1)).toBe('status:disconnected');
	expect(transport.room).toBeNull();
	transport.destroy();
});

test('a socket it let go reports nothing more, not even a frame already on its way', async () => {
	const sockets: WebSocket[] = [];
	class Recorded extends WebSocket {
		constructor(url: string | URL) {
			super(url);
			sockets.push(this);
		}
	}
	const { log, listener } = recordingListener();
	const transport = new SocketTransport(listener, { url: (r) => worker.connectUrl(r, { user_id: 'ann' }), WebSocket: Recorded, clock: new ManualClock() });
	await transport.connect(`transport-late-${Date.now()}`);
	// Another room: the first socket is let go.
	await transport.connect(`transport-late-next-${Date.now()}`);
	expect(sockets).toHaveLength(2);
	const before = log.length;
	// What a browser may still dispatch from the first socket's queue after that.
	sockets[0]!.dispatchEvent(new MessageEvent('message', { data: 'v\n["late",{"n":1}]' }));
	sockets[0]!.dispatchEvent(new MessageEvent('message', { data: 'not a frame' }));
	sockets[0]!.dispatchEvent(new MessageEvent('message', { data: PONG }));
	sockets[0]!.dispatchEvent(new CloseEvent('close', { code: 1006, reason: 'late' }));
	expect(log.slice(before)).toEqual([]);
	expect(transport.status).toBe('connected');
	sockets[1]!.dispatchEvent(new MessageEvent('message', { data: 'v\n["late",{"n":2}]' }));
	expect(log.slice(before)).toEqual(['event:late']);
	transport.destroy();
});

test("carries another batcher's calls (a tab behind a SharedWorker), pipelining included", async () => {
	const room = `transport-relay-${Date.now()}`;
	const transport = new SocketTransport<RoomRpc<TestApi>>(recordingListener().listener, {
		url: (r) => worker.connectUrl(r, { user_id: 'ann' }),
		WebSocket,
		clock: new ManualClock(),
	});
	// The tab's side: its own batcher, whose batches are relayed instead of sent on a socket.
	const tab = new CallBatcher<RoomRpc<TestApi>>((messages) => transport.callBatch(messages));

	// Not connected: refused at once, never queued.
	expect(await tab.main.add(1, 1).catch((e: unknown) => e)).toBeInstanceOf(ConnectionLost);

	await transport.connect(room);
	expect(await tab.main.add(2, 3)).toBe(5);
	expect(await tab.main.counter(1).increment(2).value()).toBe(3);
	expect(await tab.main.fail('nope').catch((e: unknown) => e)).toMatchObject({ code: 'nope', status: 409 });
	transport.destroy();
});
