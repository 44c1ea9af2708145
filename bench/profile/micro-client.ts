/**
 * PROFILING TOOL, outside the comparison: drives the library's internal `RoomConnection` directly.
 *
 * What a call costs the client, without a network or a server: `bun bench/profile/micro-client.ts`.
 * A fake socket answers every frame on the next microtask with what the room would send, so the
 * figures are the client's own CPU per call: our `RoomConnection` (`rpc.echo(x)`) against the
 * plain protocol the baselines use (stringify, send, parse), and the pieces in between.
 */
import { RoomConnection } from '../../client/connection.js';
import { eventLine, eventsFrame, readHeader } from '../../rpc/frame.js';
import { encodePayload } from '../../rpc/payload.js';

const nAt = process.argv.indexOf('--n');
const N = nAt > 0 ? Number(process.argv[nAt + 1]) : 20_000;
const payload = { n: 1, pad: 'x'.repeat(64) };

/** Answers our call frames with a reply frame, and anything else with itself (an echo). */
class FakeSocket extends EventTarget {
	readyState = 1;
	constructor(_url: string) {
		super();
		queueMicrotask(() => this.dispatchEvent(new Event('open')));
	}
	send(frame: string): void {
		const header = readHeader(frame);
		let answer = frame;
		if (header?.kind === 'call') {
			// The room's reply to `["push",["pipeline",0,["echo"],[x]]]` + `["pull",1]`.
			const push = JSON.parse(frame.slice(header.body).split('\n')[0]!) as [string, [string, number, string[], unknown[]]];
			answer = `r${header.id}\n${JSON.stringify(['resolve', 1, push[1][3][0]])}`;
		}
		queueMicrotask(() => this.dispatchEvent(new MessageEvent('message', { data: answer })));
	}
	close(): void {}
}

async function measure(name: string, call: () => Promise<unknown>): Promise<void> {
	for (let i = 0; i < 2_000; i++) await call(); // warm-up: JIT
	const cpu = process.cpuUsage();
	const start = performance.now();
	for (let i = 0; i < N; i++) await call();
	const wall = performance.now() - start;
	const used = process.cpuUsage(cpu);
	console.log(`| ${name} | ${((used.user + used.system) / N).toFixed(2)} | ${((wall * 1000) / N).toFixed(2)} |`);
}

console.log(`\nClient cost per call, no network (n = ${N})\n\n| path | CPU µs/call | wall µs/call |\n|---|---:|---:|`);

const plain = new FakeSocket('fake');
let waiting: ((raw: string) => void) | undefined;
plain.addEventListener('message', (e) => waiting?.((e as MessageEvent).data as string));
await measure(
	'plain: stringify → send → parse (baselines)',
	() => new Promise((resolve) => ((waiting = (raw) => resolve(JSON.parse(raw))), plain.send(JSON.stringify(payload)))),
);

await measure('one macrotask (setImmediate): what the batcher waits before sending', () => new Promise((resolve) => setImmediate(resolve)));

const conn = new RoomConnection<{ echo(x: unknown): Promise<unknown> }>(
	'ws://fake',
	{ onEvent() {} },
	{ WebSocket: FakeSocket as unknown as typeof WebSocket },
);
await conn.opened;
await measure('ours: RoomConnection rpc.echo(x)', () => conn.rpc.echo(payload));

/** Per event: a broadcast frame as the room sends it, handed to the socket's message listeners. */
async function measureEvents(name: string, deliver: () => void): Promise<void> {
	for (let i = 0; i < 20_000; i++) deliver(); // warm-up: JIT
	const cpu = process.cpuUsage();
	const start = performance.now();
	for (let i = 0; i < N * 5; i++) deliver();
	const wall = performance.now() - start;
	const used = process.cpuUsage(cpu);
	console.log(`| ${name} | ${((used.user + used.system) / (N * 5)).toFixed(2)} | ${((wall * 1000) / (N * 5)).toFixed(2)} |`);
}

console.log(`\nClient cost per event delivered, no network (n = ${N * 5})\n\n| path | CPU µs/event | wall µs/event |\n|---|---:|---:|`);
const event = { text: 'hello', from: { user_id: 'u1', user_name: 'Ann' }, pad: 'x'.repeat(64) };
const plainEvent = JSON.stringify({ event: 'chat:message', data: event });
let sink: unknown;
const plainEvents = new FakeSocket('fake');
plainEvents.addEventListener('message', (e) => {
	const { event: name, data } = JSON.parse((e as MessageEvent).data as string) as { event: string; data: unknown };
	sink = [name, data];
});
await measureEvents('plain: parse (baselines)', () => plainEvents.dispatchEvent(new MessageEvent('message', { data: plainEvent })));

let received = 0;
const listening = new RoomConnection('ws://fake', { onEvent: () => void received++ }, { WebSocket: FakeSocket as unknown as typeof WebSocket });
await listening.opened;
const frame = eventsFrame([eventLine('chat:message', encodePayload(event))]);
const socket = listening.socket as unknown as FakeSocket;
await measureEvents('ours: RoomConnection, one event per frame', () => socket.dispatchEvent(new MessageEvent('message', { data: frame })));
if (received === 0 || sink === undefined) throw new Error('no event arrived');
process.exit(0);
