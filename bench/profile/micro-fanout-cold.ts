/**
 * PROFILING TOOL, outside the comparison: what one delivery costs a process of `WebsocketClient`s,
 * against plain sockets parsing the bare room's broadcasts, when the memory it touches has gone
 * cold, as it has when a broadcast wakes a client process after workerd and other processes ran on
 * its core.
 *
 *     bun bench/profile/micro-fanout-cold.ts [--clients 50] [--rounds 1500]
 *
 * For each size written over before each round (0, 1, 16 and 64 MB), a fresh Bun process
 * (`micro-fanout-cold-client.ts`, bundled as the bench bundles its clients) with `clients` of each
 * on fake sockets, no network: rounds of one event to every socket, the two sides alternating,
 * timed in the process. Steadier than `micro-fanout.ts` (real sockets), and it separates what the
 * path costs from what its memory costs (bench/README.md, "what a delivery's cost is made of").
 */
import { bundleTool, numberFlag } from './bundle-tool.js';

const clients = numberFlag('clients', 50);
const rounds = numberFlag('rounds', 1500);
const client = await bundleTool('micro-fanout-cold-client.ts');

console.log(`\n${clients} sockets of each side in one process, ${rounds} rounds each; µs per delivery (median of the rounds)\n`);
console.log('| written over before each round | ours (WebsocketClient) | plain | ratio |\n|---:|---:|---:|---:|');
for (const thrashMb of [0, 1, 16, 64]) {
	const child = Bun.spawnSync([process.execPath, client, String(clients), String(rounds), String(thrashMb)], { stderr: 'inherit' });
	if (child.exitCode !== 0) throw new Error(`the client exited with ${child.exitCode}`);
	const { ours, plain } = JSON.parse(child.stdout.toString().trim().split('\n').pop()!) as { ours: number; plain: number };
	console.log(`| ${thrashMb} MB | ${ours.toFixed(2)} | ${plain.toFixed(2)} | ${(ours / plain).toFixed(2)}× |`);
}
process.exit(0);
