/**
 * permessage-deflate is the room's choice (`RoomOptions.compression`): declined by default, even
 * though every browser (and Bun's client here) offers it; accepted when the room turns it on.
 * Checked on the handshake the client really got, and with traffic flowing both ways after it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { connect } from 'node:net';
import { startRoomWorker, startWorkerd, type RoomWorker } from '../support/workerd.js';

let plain: RoomWorker;
let compressed: Awaited<ReturnType<typeof startWorkerd>>;
beforeAll(async () => {
	[plain, compressed] = await Promise.all([startRoomWorker(), startWorkerd('tests/worker/compressed.ts', 'compressed-worker.js')]);
});
afterAll(async () => {
	await Promise.all([plain.dispose(), compressed.mf.dispose()]);
});

/** The handshake's response headers, read off the wire, for an upgrade that offers deflate. */
function handshake(origin: string, path: string): Promise<string> {
	const { hostname, port } = new URL(origin);
	return new Promise((resolve, reject) => {
		const socket = connect(Number(port), hostname, () => {
			socket.write(
				`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
					`Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n` +
					`Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n`,
			);
		});
		let head = '';
		socket.on('data', (chunk) => {
			head += chunk.toString('latin1');
			const end = head.indexOf('\r\n\r\n');
			if (end < 0) return;
			socket.destroy();
			resolve(head.slice(0, end));
		});
		socket.on('error', reject);
	});
}

/** Opens a socket (Bun offers permessage-deflate, as browsers do) and waits for the room's first frame. */
async function firstFrame(url: string): Promise<{ extensions: string; frame: string }> {
	const ws = new WebSocket(url);
	const frame = await new Promise<string>((resolve, reject) => {
		ws.addEventListener('message', (e) => resolve(String(e.data)), { once: true });
		ws.addEventListener('close', (e) => reject(new Error(`closed ${e.code}`)), { once: true });
	});
	const { extensions } = ws;
	ws.close();
	return { extensions, frame };
}

describe('compression', () => {
	test('declined by default: the browser offers deflate, the handshake answers without it', async () => {
		const head = await handshake(plain.origin, `/connect/compression-off?meta=${encodeURIComponent('{"user_id":"ann"}')}`);
		expect(head).toStartWith('HTTP/1.1 101');
		expect(head.toLowerCase()).not.toContain('sec-websocket-extensions');

		const { extensions, frame } = await firstFrame(plain.connectUrl('compression-off-2', { user_id: 'ann' }));
		expect(extensions).toBe('');
		expect(frame).toContain('session:list');
	});

	test('`compression: true`: deflate is negotiated and frames flow', async () => {
		const head = await handshake(compressed.origin, '/connect/compression-on');
		expect(head).toStartWith('HTTP/1.1 101');
		expect(head.toLowerCase()).toContain('sec-websocket-extensions: permessage-deflate');

		const { extensions, frame } = await firstFrame(`${compressed.wsOrigin}/connect/compression-on-2`);
		expect(extensions).toContain('permessage-deflate');
		expect(frame).toContain('session:list');
	});
});
