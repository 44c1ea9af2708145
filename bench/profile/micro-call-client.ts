/**
 * One run of `micro-call.ts`: a `WebsocketClient` whose fake socket answers every call frame on the
 * next macrotask as the room would; prints CPU µs per `ws.rpc.echo(x)`, and the same for the plain
 * protocol the baselines use (stringify, send, parse). With an idle (ms, the second argument), also
 * the wall µs of the first call after each of 3 idles.
 */
import { WebsocketClient } from '../../client/index.js';
import { readHeader } from '../../rpc/frame.js';
import { FakeSocket } from './fake-socket.js';

const N = Number(process.argv[2] ?? 20_000);
const idleMs = Number(process.argv[3] ?? 0);
const payload = { n: 1, pad: 'x'.repeat(64) };

/** Sends the room's list once open, and answers each call frame on the next macrotask as the room would. */
class RoomSocket extends FakeSocket {
	protected override opened(): void {
		this.#later('v\n["session:list",{"sessions":[{"ws_session_id":"me","meta":{"user_id":"u"}}]}]');
	}
	#later(data: string): void {
		setImmediate(() => this.deliver(data));
	}
	override send(frame: string): void {
		const header = readHeader(frame);
		if (header?.kind !== 'call') return;
		const push = JSON.parse(frame.slice(header.body).split('\n')[0]!) as [string, [string, number, string[], unknown[]]];
		this.#later(`r${header.id}\n${JSON.stringify(['resolve', 1, push[1][3][0]])}`);
	}
}

const cpuUs = (since: NodeJS.CpuUsage) => {
	const used = process.cpuUsage(since);
	return used.user + used.system;
};

const ws = new WebsocketClient<{ user_id: string }, {}, { echo(x: unknown): unknown }>({
	url: () => 'ws://fake/',
	shared: false,
	WebSocket: RoomSocket as unknown as typeof WebSocket,
});
await ws.connect('room');
for (let i = 0; i < 3000; i++) await ws.rpc.echo(payload);
let cpu = process.cpuUsage();
for (let i = 0; i < N; i++) await ws.rpc.echo(payload);
const ours = cpuUs(cpu) / N;

// The baselines' protocol over the same kind of socket: stringify, send, parse on the answer.
const plain = new EventTarget();
const plainCall = (x: unknown) =>
	new Promise<unknown>((resolve) => {
		const text = JSON.stringify({ t: 'echo', x });
		setImmediate(() => plain.dispatchEvent(new MessageEvent('message', { data: text })));
		plain.addEventListener('message', (e) => resolve(JSON.parse((e as MessageEvent).data).x), { once: true });
	});
for (let i = 0; i < 3000; i++) await plainCall(payload);
cpu = process.cpuUsage();
for (let i = 0; i < N; i++) await plainCall(payload);
const bare = cpuUs(cpu) / N;

// With an idle: the wall time of the first call after each of 3 idles, for each side in turn (the
// client's code and data gone cold, as before the first call to a room woken from eviction).
const cold = { ours: [] as number[], bare: [] as number[] };
for (let round = 0; round < (idleMs > 0 ? 3 : 0); round++) {
	for (const side of ['ours', 'bare'] as const) {
		await Bun.sleep(idleMs);
		const start = performance.now();
		await (side === 'ours' ? ws.rpc.echo(payload) : plainCall(payload));
		cold[side].push((performance.now() - start) * 1000);
	}
}
console.log(JSON.stringify({ ours, bare, cold }));
process.exit(0);
