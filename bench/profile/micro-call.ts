/**
 * PROFILING TOOL, outside the comparison: what a sequential call costs the client through
 * `WebsocketClient`, as an app makes it, without a network or a server.
 *
 *     bun bench/profile/micro-call.ts [--runs 5] [--calls 20000] [--idle 2000]
 *
 * Each run is a fresh Bun process running `micro-call-client.ts`, bundled as the bench bundles its
 * clients (runes compiled for the browser). A fake socket answers each call frame on the next
 * macrotask with the room's reply. Prints CPU µs per `ws.rpc.echo(x)`, and per call of the plain
 * protocol the baselines speak (stringify, send, parse) over the same kind of fake socket. With
 * `--idle <ms>`, also the wall time of the first call after an idle of that long (3 per side and run):
 * what the client adds to the first call to a room woken from eviction, without a room.
 */
import { bundleTool, numberFlag } from './bundle-tool.js';

const runs = numberFlag('runs', 5);
const calls = numberFlag('calls', 20_000);
const idle = numberFlag('idle', 0);
const outfile = await bundleTool('micro-call-client.ts');
const idleColumns = idle > 0 ? ` first call after ${idle} ms idle, µs: WebsocketClient | plain protocol |` : '';
console.log(
	`\nCPU µs per sequential call, ${calls} calls per run\n\n| run | WebsocketClient rpc.echo | plain protocol |${idleColumns}\n|---:|---:|---:|${idle > 0 ? '---:|---:|' : ''}`,
);
for (let run = 1; run <= runs; run++) {
	const child = Bun.spawnSync(
		[
			process.execPath,
			...(process.env.CALL_PROF ? ['--cpu-prof', '--cpu-prof-interval', '50', `--cpu-prof-dir=${process.env.CALL_PROF}`] : []),
			outfile,
			String(calls),
			String(idle),
		],
		{ stderr: 'inherit' },
	);
	const result = JSON.parse(child.stdout.toString().trim().split('\n').pop()!) as { ours: number; bare: number; cold: { ours: number[]; bare: number[] } };
	const cold = idle > 0 ? ` ${result.cold.ours.map((us) => us.toFixed(0)).join(', ')} | ${result.cold.bare.map((us) => us.toFixed(0)).join(', ')} |` : '';
	console.log(`| ${run} | ${result.ours.toFixed(2)} | ${result.bare.toFixed(2)} |${cold}`);
}
