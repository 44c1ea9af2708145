/**
 * What a call costs the client, without a network or a server: `bun bench/profile/micro-client.ts`.
 * A fake socket answers every frame on the next microtask with what the room would send, so the
 * figures are the client's own CPU per call: our `RoomConnection` (`rpc.echo(x)`) against the
 * plain protocol the baselines use (stringify, send, parse), and the pieces in between.
 */
import { RoomConnection } from '../../client/connection.js';
import { readHeader } from '../../rpc/frame.js';

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
await measure('plain: stringify → send → parse (baselines)', () => new Promise((resolve) => ((waiting = (raw) => resolve(JSON.parse(raw))), plain.send(JSON.stringify(payload)))));

await measure('one macrotask (setImmediate): what the batcher waits before sending', () => new Promise((resolve) => setImmediate(resolve)));

const conn = new RoomConnection<{ echo(x: unknown): Promise<unknown> }>('ws://fake', { onEvent() {} }, { WebSocket: FakeSocket as unknown as typeof WebSocket });
await conn.opened;
await measure('ours: RoomConnection rpc.echo(x)', () => conn.rpc.echo(payload));
process.exit(0);
