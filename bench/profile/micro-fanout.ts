/**
 * PROFILING TOOL, outside the comparison: what a delivery costs a process of `WebsocketClient`s,
 * against plain sockets parsing the bare room's broadcasts, with a Bun server in place of workerd.
 *
 *     bun bench/profile/micro-fanout.ts [--clients 50] [--broadcasts 200] [--runs 5] [--gapMs 2]
 *
 * Like the bench's paced fan-out (50 receiving sockets per process, ~5,000 deliveries measured in
 * a fresh process after 20 warm-up broadcasts), in seconds and with less noise: no workerd, no
 * handle, one client process at a time, its sides alternating. The server sends our room's frames
 * to ours (its encoders, from source) and the bare room's to plain sockets.
 *
 * What it showed (bench/README.md, "events as JSON lines"): in this regime most of our functions
 * run before JavaScriptCore has optimized them, so every step of a delivery shows; with 30 times as
 * many broadcasts the gap to plain sockets shrinks to a third.
 */
import { join } from 'node:path';
import { bundleTool, numberFlag } from './bundle-tool.js';

const clients = numberFlag('clients', 50);
const broadcasts = numberFlag('broadcasts', 200);
const runs = numberFlag('runs', 5);
const gapMs = numberFlag('gapMs', 2);
const WARMUP = 20;

const client = await bundleTool('micro-fanout-client.ts');
const serverScript = join(import.meta.dir, 'micro-fanout-server.ts');

/** One server and one fresh client process; the client's CPU µs per delivery. */
async function measure(side: 'ours' | 'plain'): Promise<number> {
	const server = Bun.spawn([process.execPath, serverScript, String(clients), String(WARMUP), String(broadcasts), String(gapMs)], {
		stdout: 'pipe',
		stderr: 'inherit',
	});
	try {
		const first = await server.stdout.getReader().read();
		const port = new TextDecoder().decode(first.value).trim();
		const child = Bun.spawnSync([process.execPath, client, port, side, String(clients), String(broadcasts)], { stderr: 'inherit' });
		if (child.exitCode !== 0) throw new Error(`the ${side} client exited with ${child.exitCode}`);
		return (JSON.parse(child.stdout.toString().trim().split('\n').pop()!) as { perDelivery: number }).perDelivery;
	} finally {
		server.kill();
	}
}

console.log(`\n${clients} sockets in one process, ${broadcasts} broadcasts after ${WARMUP} warm-up ones; process CPU µs per delivery\n`);
console.log('| run | ours (WebsocketClient) | plain | ratio |\n|---:|---:|---:|---:|');
const ours: number[] = [];
const plain: number[] = [];
for (let run = 1; run <= runs; run++) {
	ours.push(await measure('ours'));
	plain.push(await measure('plain'));
	console.log(`| ${run} | ${ours.at(-1)!.toFixed(2)} | ${plain.at(-1)!.toFixed(2)} | ${(ours.at(-1)! / plain.at(-1)!).toFixed(2)}× |`);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`| median | ${median(ours).toFixed(2)} | ${median(plain).toFixed(2)} | ${(median(ours) / median(plain)).toFixed(2)}× |`);
process.exit(0);
