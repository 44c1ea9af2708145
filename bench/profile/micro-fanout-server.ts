/**
 * The room side of `micro-fanout.ts`: a Bun WebSocket server (127.0.0.1, a free port, printed on
 * its first line) that waits for `clients` sockets, then sends each of them `warmup + broadcasts`
 * broadcasts, `gapMs` apart, and exits. To a socket that asks for `?side=ours` it sends what our
 * room sends (the joiner's `session:list`, then each broadcast as our room encodes it); to any
 * other, the bare room's broadcast (`shared/plain.ts`).
 *
 *     bun bench/profile/micro-fanout-server.ts <clients> <warmup> <broadcasts> <gapMs>
 */
import type { ServerWebSocket } from 'bun';
import { eventLine, eventsFrame } from '../../rpc/frame.js';
import { encodePayload } from '../../rpc/payload-encode.js';
import { BROADCAST } from '../shared/plain.js';

const [clients, warmup, broadcasts, gapMs] = process.argv.slice(2).map(Number) as [number, number, number, number];
const pad = 'x'.repeat(64);
const sockets: ServerWebSocket<{ ours: boolean }>[] = [];

/** Broadcast `seq`, stamped now; the warm-up ones say so, and the client does not count them. */
function broadcast(ours: boolean, seq: number): string {
	const value = { seq, t: performance.now(), pad, ...(seq < warmup ? { warm: true } : {}) };
	return ours ? eventsFrame([eventLine('bench:shout', encodePayload(value))]) : BROADCAST + JSON.stringify(value);
}

const server = Bun.serve<{ ours: boolean }, never>({
	hostname: '127.0.0.1',
	port: 0,
	fetch(request, srv) {
		const ours = new URL(request.url).searchParams.get('side') === 'ours';
		return srv.upgrade(request, { data: { ours } }) ? undefined : new Response('WebSocket only', { status: 426 });
	},
	websocket: {
		perMessageDeflate: false,
		open(ws: ServerWebSocket<{ ours: boolean }>) {
			if (ws.data.ours) {
				const me = { ws_session_id: `s${sockets.length}`, meta: { user_id: 'bench' } };
				ws.send(eventsFrame([eventLine('session:list', encodePayload({ sessions: [me] }))]));
			}
			sockets.push(ws);
			if (sockets.length === clients) void send();
		},
		message() {},
	},
});
console.log(server.port);
// Bounded whatever happens to the client.
setTimeout(() => process.exit(2), 60_000).unref();

async function send(): Promise<void> {
	for (let seq = 0; seq < warmup + broadcasts; seq++) {
		// Each side's frame encoded once per broadcast, as a room does: encoding it per socket would
		// make ours' frames leave further apart, and its clients wake more often for them.
		const frames = { ours: broadcast(true, seq), plain: broadcast(false, seq) };
		for (const ws of sockets) ws.send(ws.data.ours ? frames.ours : frames.plain);
		await Bun.sleep(gapMs);
	}
	server.stop(true);
	process.exit(0);
}
