/**
 * The client side of `micro-fanout.ts` (which bundles and starts it): `clients` sockets in this
 * process, `WebsocketClient`s (`ours`) or plain WebSockets parsing the bare room's broadcasts as the
 * bench's baseline does (`plain`). Prints one JSON line: process CPU µs per counted delivery, from
 * the first counted broadcast on.
 *
 *     bun bench/.build/micro-fanout-client.js <port> <ours|plain> <clients> <broadcasts>
 */
import { WebsocketClient } from '../../client/index.js';
import { BROADCAST } from '../shared/plain.js';

const [port, side] = process.argv.slice(2, 4) as [string, 'ours' | 'plain'];
const [clients, broadcasts] = process.argv.slice(4).map(Number) as [number, number];
const url = `ws://127.0.0.1:${port}/?side=${side}`;
const total = clients * broadcasts;
setTimeout(() => process.exit(2), 60_000).unref();

let delivered = 0;
let cpu: NodeJS.CpuUsage | undefined;
const done = Promise.withResolvers<void>();
/** Every delivery, in both sides' listeners: counts the ones after the warm-up. */
function heard(value: { warm?: true }): void {
	if (value.warm) return;
	cpu ??= process.cpuUsage();
	if (++delivered === total) done.resolve();
}

for (let i = 0; i < clients; i++) {
	if (side === 'plain') {
		const ws = new WebSocket(url);
		ws.addEventListener('message', (e) => {
			const data = e.data as string;
			if (data.startsWith(BROADCAST)) heard(JSON.parse(data.slice(1)) as { warm?: true });
		});
	} else {
		const ws = new WebsocketClient<{ user_id: string }, { 'bench:shout': { warm?: true } }>({ url: () => url, shared: false, WebSocket });
		ws.on('bench:shout', heard);
		void ws.connect('room');
	}
}
await done.promise;
// The first counted delivery started the clock: the other `total - 1` are measured.
const used = process.cpuUsage(cpu);
console.log(JSON.stringify({ side, perDelivery: (used.user + used.system) / (total - 1) }));
process.exit(0);
