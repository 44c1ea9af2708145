/**
 * PROFILING TOOL, outside the comparison: what a crowd of `WebsocketClient`s costs their process
 * when a room fills, and per event afterwards, without a network or a server.
 *
 *     bun bench/profile/micro-storm.ts [--clients 500] [--runs 5] [--events 200] [--wave 32]
 *
 * Each run is a fresh Bun process (cold JIT, as a bench client process or a page is) running
 * `micro-storm-client.ts`, bundled as the bench bundles its clients (runes compiled for the
 * browser). Its clients get, through a fake socket, the frames the room would send them, encoded by
 * the room's own code: each joiner the `session:list` of everyone before it and itself (in parts of
 * at most 8 KB), then the joins of those who join after it, coalesced per wave of `--wave` joins by
 * the room's `PresenceQueue`; then `--events` broadcasts, one frame each. Prints the process CPU per
 * client for the join (construct, connect, list, announcements) and per delivered event.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_PUSH_FRAME_BYTES } from '../../do/frame-size.js';
import { PresenceQueue } from '../../do/presence.js';
import { eventLine, eventsFrame } from '../../rpc/frame.js';
import { encodePayload } from '../../rpc/payload-encode.js';
import { bundleTool, numberFlag, TOOL_DIR } from './bundle-tool.js';

const clients = numberFlag('clients', 500);
const runs = numberFlag('runs', 5);
const events = numberFlag('events', 200);
const wave = numberFlag('wave', 32);
const perProcess = numberFlag('perProcess', 50);

const sessions = Array.from({ length: clients }, (_, i) => ({ ws_session_id: crypto.randomUUID(), meta: { user_id: 'bench' }, i }));
const info = (s: (typeof sessions)[number]) => ({ ws_session_id: s.ws_session_id, meta: s.meta });

/** `session:list` parts for the first `k + 1` sessions, as the room packs them (≤ 8 KB each). */
function listFrames(k: number): string[] {
	const frames: string[] = [];
	let part: ReturnType<typeof info>[] = [];
	const flush = (more: boolean) => frames.push(eventsFrame([eventLine('session:list', encodePayload(more ? { sessions: part, more } : { sessions: part }))]));
	for (let i = 0; i <= k; i++) {
		part.push(info(sessions[i]!));
		if (JSON.stringify(part).length > MAX_PUSH_FRAME_BYTES - 200) {
			flush(true);
			part = [];
		}
	}
	flush(false);
	return frames;
}

/**
 * What the room's presence queue sends when wave `from`…`to - 1` is flushed: `announce` to everyone
 * already in, and to each joiner of the wave the joins after its own (`joiners[k]` for the `k`th).
 */
function announcements(from: number, to: number): { announce: string[]; joiners: string[][] } {
	const queue = new PresenceQueue(60_000, () => {});
	const old = {} as WebSocket;
	const joiners = Array.from({ length: to - from }, () => ({}) as WebSocket);
	for (let i = from; i < to; i++) {
		queue.listed(joiners[i - from]!);
		queue.change({ connected: { ...info(sessions[i]!), num_connections: i + 1 } }, joiners[i - from]);
	}
	const frames = new Map<WebSocket, string[]>();
	queue.drain([old, ...joiners], (ws, frame) => (frames.set(ws, [...(frames.get(ws) ?? []), frame]), true));
	return { announce: frames.get(old)!, joiners: joiners.map((ws) => frames.get(ws) ?? []) };
}

const waves: { from: number; to: number; announce: string[]; joiners: string[][] }[] = [];
for (let from = 0; from < clients; from += wave) {
	const to = Math.min(clients, from + wave);
	waves.push({ from, to, ...announcements(from, to) });
}
const pad = 'x'.repeat(64);
const event = (seq: number) => eventsFrame([eventLine('bench:shout', encodePayload({ seq, t: 1234.5, pad }))]);
const script = {
	lists: sessions.map((_, k) => listFrames(k)),
	waves,
	events: Array.from({ length: events }, (_, seq) => event(seq)),
};

// Bundled first: bundling makes the tools' folder, which a fresh checkout does not have.
const outfile = await bundleTool('micro-storm-client.ts');
writeFileSync(join(TOOL_DIR, 'micro-storm-frames.json'), JSON.stringify(script));

console.log(
	`\n${clients} WebsocketClients in a room, ${perProcess} of them in this process, joins in waves of ${wave}, ${events} events; CPU µs per client (join) and per delivery\n`,
);
console.log('| run | join: CPU per client | of which construct + connect | per delivery |\n|---:|---:|---:|---:|');
const joins: number[] = [];
const deliveries: number[] = [];
for (let run = 1; run <= runs; run++) {
	const child = Bun.spawnSync([process.execPath, outfile, join(TOOL_DIR, 'micro-storm-frames.json'), String(Math.max(1, Math.round(clients / perProcess)))], {
		stderr: 'inherit',
	});
	const result = JSON.parse(child.stdout.toString().trim().split('\n').pop()!) as { join: number; construct: number; delivery: number };
	joins.push(result.join);
	deliveries.push(result.delivery);
	console.log(`| ${run} | ${result.join.toFixed(0)} | ${result.construct.toFixed(0)} | ${result.delivery.toFixed(2)} |`);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`| median | ${median(joins).toFixed(0)} | | ${median(deliveries).toFixed(2)} |`);
