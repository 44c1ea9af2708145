/**
 * What a client makes of frames it cannot read: a server here sends, over a real socket, events
 * frames with a line that is not an event, and a frame of no kind of ours, between good events.
 * Each bad piece becomes one `error` event in its place; everything around it is delivered, in order.
 * An event that reads but cannot be delivered (a malformed roster) is reported, and the frame goes on.
 */
import { expect, spyOn, test } from 'bun:test';
import { RoomConnection } from '../../client/connection.js';
import { eventLine, eventsFrame } from '../../rpc/frame.js';
import { encodePayload } from '../../rpc/payload.js';

test('a bad event line and an unknown frame are reported in place; the events around them arrive in order', async () => {
	const good = (n: number) => eventLine('chat', encodePayload({ n }));
	const malformed = eventLine('session:changes', encodePayload({ changes: 5 }));
	const frames = [eventsFrame([good(1), '["chat"', good(2)]), 'zz\nnot a frame', eventsFrame([good(3)]), eventsFrame(['{"name":"chat"}', malformed, good(4)])];
	const reported = spyOn(console, 'error').mockImplementation(() => {});
	const server = Bun.serve({
		hostname: '127.0.0.1',
		port: 0,
		fetch: (request, srv) => (srv.upgrade(request) ? undefined : new Response('no', { status: 400 })),
		websocket: { open: (ws) => void frames.forEach((frame) => ws.send(frame)), message() {} },
	});
	const got: unknown[] = [];
	const all = Promise.withResolvers<void>();
	const connection = new RoomConnection(`ws://127.0.0.1:${server.port}`, {
		onEvent: (name, data) => {
			got.push(name === 'error' ? (data as { code: string }).code : data);
			if (got.length === 7) all.resolve();
		},
	});
	try {
		await all.promise;
		expect(got).toEqual([{ n: 1 }, 'bad_frame', { n: 2 }, 'bad_frame', { n: 3 }, 'bad_frame', { n: 4 }]);
		expect(reported.mock.calls.map((call) => call[0])).toEqual([`@delightstack/websocket: could not deliver the room's "session:changes" event`]);
	} finally {
		reported.mockRestore();
		connection.close();
		server.stop(true);
	}
});
