/**
 * The process of `micro-fanout-cold.ts` (which bundles and starts it): `clients` WebsocketClients
 * and as many plain listeners (the bench's baseline: the bare room's broadcast, parsed) on fake
 * sockets. Rounds alternate between the two sides; before each, `thrashMb` MB are written over, then
 * one event is delivered to every socket of the side, timed. Prints one JSON line: the median µs per
 * delivery of each side, after 300 rounds not counted.
 *
 *     bun bench/.build/micro-fanout-cold-client.js <clients> <rounds> <thrashMb>
 */
import { WebsocketClient } from '../../client/index.js';
import { eventLine, eventsFrame } from '../../rpc/frame.js';
import { encodePayload } from '../../rpc/payload-encode.js';
import { BROADCAST } from '../shared/plain.js';
import { median } from '../shared/stats.js';
import { FakeSocket } from './fake-socket.js';

const [clients, rounds, thrashMb] = process.argv.slice(2).map(Number) as [number, number, number];
const WARM_ROUNDS = 300;
const pad = 'x'.repeat(64);
const macrotask = () => new Promise((resolve) => setTimeout(resolve, 0));
let heard = 0;
const onShout = (value: { seq: number }) => void (heard += value.seq >= 0 ? 1 : 0);

/** The socket each client opens, kept to deliver to. */
let opened: FakeSocket | undefined;
class Socket extends FakeSocket {
	constructor(url: string | URL) {
		super(url);
		opened = this;
	}
}
const ours: FakeSocket[] = [];
const keep: unknown[] = [];
for (let i = 0; i < clients; i++) {
	const ws = new WebsocketClient<{ user_id: string }, { 'bench:shout': { seq: number } }>({
		url: () => 'ws://fake/',
		shared: false,
		WebSocket: Socket as unknown as typeof WebSocket,
	});
	ws.on('bench:shout', onShout);
	const joined = ws.connect('room');
	while (opened?.readyState !== 1) await macrotask();
	opened.deliver(eventsFrame([eventLine('session:list', encodePayload({ sessions: [{ ws_session_id: `s${i}`, meta: { user_id: `u${i}` } }] }))]));
	await joined;
	ours.push(opened);
	keep.push(ws);
	opened = undefined;
}
const plain: FakeSocket[] = [];
for (let i = 0; i < clients; i++) {
	const socket = new FakeSocket('ws://fake/');
	const listener = { onShout: onShout as ((value: { seq: number }) => void) | undefined };
	socket.addEventListener('message', (e) => {
		const raw = (e as MessageEvent<string>).data;
		if (raw.startsWith(BROADCAST)) listener.onShout?.(JSON.parse(raw.slice(1)));
	});
	plain.push(socket);
	keep.push(listener);
}
await macrotask();

const thrash = new Int32Array((thrashMb * 2 ** 20) / 4);
const times = { ours: [] as number[], plain: [] as number[] };
for (let round = 0; round < WARM_ROUNDS + rounds; round++) {
	for (const side of round % 2 ? (['ours', 'plain'] as const) : (['plain', 'ours'] as const)) {
		const sockets = side === 'ours' ? ours : plain;
		// A fresh string per delivery, as a socket's message is; made before the thrash, as it arrives before the listener runs.
		const frames = sockets.map((_, i) => {
			const value = { seq: round * clients + i, t: performance.now(), pad };
			return side === 'ours' ? eventsFrame([eventLine('bench:shout', encodePayload(value))]) : BROADCAST + JSON.stringify(value);
		});
		// One write per 64-byte line: what other processes on the core leave in the caches.
		for (let j = 0; j < thrash.length; j += 16) thrash[j]! += j;
		await macrotask();
		const start = performance.now();
		for (let i = 0; i < sockets.length; i++) sockets[i]!.deliver(frames[i]!);
		const end = performance.now();
		if (round >= WARM_ROUNDS) times[side].push(((end - start) * 1000) / sockets.length);
	}
}
if (heard !== 2 * clients * (WARM_ROUNDS + rounds)) throw new Error(`${heard} deliveries heard`);
console.log(JSON.stringify({ ours: median(times.ours), plain: median(times.plain) }));
process.exit(0);
