/**
 * Presence that scales: what `N` sequential joins cost on the wire, with the full list
 * (`presence: 'full'`, the default) and with a window (`presence: { window: 50 }`).
 *
 * One workerd (its own: the bench Worker has no window room) hosts two copies of our room that
 * differ only in `presence`; limits that would slow a crowd from one machine are set out of the way.
 * For each mode, `joins` sockets join one room one after the other (each waits for its list), every
 * raw frame every socket receives is counted, and at the end one broadcast flushes what presence
 * still holds and tells when everyone has heard everything (its frames are not counted). Reported:
 * bytes and frames received in all, per join, and what the last join cost — the joiner's list and
 * what every other member got for it. Correctness: every socket must end knowing the room's count.
 *
 *   bun bench/scenarios/presence.ts [joins]     on its own (default 1000), prints the figures
 */
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FOR_WORKERD } from '../../vite/workerd-bundle.js';
import { WIRE_PARAM, WIRE_VERSION } from '../../rpc/wire-version.js';
import { RowCollector, type ScenarioResult } from '../context.js';

const root = join(import.meta.dir, '..', '..');

/** The Worker: the two rooms behind `handleUpgrade` (from `/server`), and a route that broadcasts. */
const WORKER = `
import { WebsocketServer } from './do/index.js';
import { handleUpgrade } from './kit/index.js';
const unlimited = { capacity: 1e9, refillEveryMs: 1 };
export class FullRoom extends WebsocketServer {
	static options = { rateLimit: unlimited, frameRateLimit: unlimited, connectRateLimit: unlimited, idleTimeoutMs: 0 };
}
export class WindowRoom extends WebsocketServer {
	static options = { ...FullRoom.options, presence: { window: 50 } };
}
// As an app's Worker lets sockets in: the meta comes from the URL here, in place of a session lookup.
const upgrade = (path) => ({ path, authorize: (request) => ({ meta: JSON.parse(new URL(request.url).searchParams.get('meta')) }) });
const upgrades = { full: upgrade('/connect/full'), window: upgrade('/connect/window') };
export default {
	async fetch(request, env) {
		const url = new URL(request.url);
		const [, route, mode, room] = url.pathname.split('/');
		const ns = mode === 'window' ? env.WINDOW : env.FULL;
		if (route === 'connect') return (await handleUpgrade(request, ns, upgrades[mode])) ?? new Response('not found', { status: 404 });
		if (route === 'broadcast') return Response.json(await ns.get(ns.idFromName(room)).broadcast('sync', {}));
		return new Response('not found', { status: 404 });
	},
};
`;

export type PresenceMode = 'full' | 'window';

export interface PresenceRun {
	mode: PresenceMode;
	joins: number;
	/** Every frame every socket received (the final broadcast aside). */
	frames: number;
	bytes: number;
	/** The last joiner's frames before it was in (its list). */
	lastListBytes: number;
	/** What the last join cost every other member, summed. */
	lastJoinBytesToOthers: number;
	lastJoinFramesToOthers: number;
	/** Every socket heard the room's final count (full: the list and joins; window: the last update). */
	correct: boolean;
	ms: number;
}

async function startServer(): Promise<{ mf: Miniflare; wsOrigin: string; origin: string }> {
	const outdir = join(root, 'bench', '.build');
	mkdirSync(outdir, { recursive: true });
	const outfile = join(outdir, 'presence-worker.js');
	await build({
		stdin: { contents: WORKER, resolveDir: root, loader: 'js', sourcefile: 'presence-worker.js' },
		outfile,
		...FOR_WORKERD,
		conditions: [...FOR_WORKERD.conditions],
		mainFields: [...FOR_WORKERD.mainFields],
		external: [...FOR_WORKERD.external],
		logLevel: 'error',
	});
	const mf = new Miniflare({
		modules: true,
		scriptPath: outfile,
		compatibilityDate: '2026-04-20',
		durableObjects: { FULL: { className: 'FullRoom', useSQLite: true }, WINDOW: { className: 'WindowRoom', useSQLite: true } },
		host: '127.0.0.1',
		port: 0,
	});
	const { origin } = await mf.ready;
	return { mf, origin: origin.toString().replace(/\/$/, ''), wsOrigin: origin.toString().replace(/^http/, 'ws').replace(/\/$/, '') };
}

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/** One socket: its frames counted, and what it has heard of the room's size. */
interface Counted {
	ws: WebSocket;
	frames: number;
	bytes: number;
	/** Full: sessions listed plus joins heard; window: the users count last heard. */
	heard: number;
	/** `sync` broadcasts received. */
	syncs: number;
	onSync: () => void;
}

/** Bun's WebSocket sends the headers it is given, as a browser sends its page's `Origin`. */
const WithHeaders = WebSocket as unknown as new (url: string, options: { headers: Record<string, string> }) => WebSocket;

async function joinOne(wsOrigin: string, mode: PresenceMode, room: string, i: number): Promise<Counted> {
	const meta = { user_id: `u${i}`, user_name: `User ${i}` };
	const origin = wsOrigin.replace(/^ws/, 'http');
	// The wire version stated as our client states it: the handle refuses a socket of another one.
	const query = `room=${room}&meta=${encodeURIComponent(JSON.stringify(meta))}&${WIRE_PARAM}=${WIRE_VERSION}`;
	const ws = new WithHeaders(`${wsOrigin}/connect/${mode}?${query}`, { headers: { origin } });
	let joined!: () => void;
	const counted: Counted = { ws, frames: 0, bytes: 0, heard: 0, syncs: 0, onSync: () => {} };
	const isJoined = new Promise<void>((resolve, reject) => {
		joined = resolve;
		// A socket closed before its list (refused, say) fails the scenario at once, not at its deadline.
		ws.addEventListener('close', (e) => reject(new Error(`socket ${i} closed before joining: ${e.code} ${e.reason}`)), { once: true });
	});
	ws.addEventListener('message', (event) => {
		const frame = String(event.data);
		if (frame.includes('"sync"')) {
			counted.syncs++;
			return counted.onSync();
		}
		counted.frames++;
		counted.bytes += utf8(frame);
		if (mode === 'full') {
			// Nobody leaves here: every entry, listed or announced, is one more socket.
			counted.heard += count(frame, '"ws_session_id"');
			if (frame.includes('"session:list"') && !frame.includes('"more":true')) joined();
		} else {
			const users = [...frame.matchAll(/"users":(\d+)/g)].at(-1);
			if (users) counted.heard = Number(users[1]);
			if (frame.includes('"session:list"')) joined();
		}
	});
	ws.addEventListener('error', (error) => {
		throw new Error(`socket ${i} failed: ${String(error)}`);
	});
	await isJoined;
	return counted;
}

function count(text: string, needle: string): number {
	let n = 0;
	for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) n++;
	return n;
}

/**
 * Broadcasts `sync`: the room flushes pending presence first, so once every socket has it, every
 * socket has heard every join so far.
 */
async function settle(origin: string, mode: PresenceMode, room: string, sockets: readonly Counted[]): Promise<void> {
	const heard = sockets.map((s) => s.syncs + 1);
	const all = Promise.all(
		sockets.map((s, i) => (s.syncs >= heard[i]! ? undefined : new Promise<void>((resolve) => (s.onSync = () => s.syncs >= heard[i]! && resolve())))),
	);
	await fetch(`${origin}/broadcast/${mode}/${room}`);
	await all;
}

/** `joins` sequential joins into a fresh room of `mode`; the last one measured on its own. */
export async function measurePresence(server: { wsOrigin: string; origin: string }, mode: PresenceMode, joins: number): Promise<PresenceRun> {
	const room = `presence-${mode}-${Date.now()}`;
	const sockets: Counted[] = [];
	const started = performance.now();
	for (let i = 0; i < joins - 1; i++) sockets.push(await joinOne(server.wsOrigin, mode, room, i));
	await settle(server.origin, mode, room, sockets);
	const before = totals(sockets);
	const last = await joinOne(server.wsOrigin, mode, room, joins - 1);
	sockets.push(last);
	const lastListBytes = last.bytes;
	await settle(server.origin, mode, room, sockets);
	const ms = performance.now() - started;
	const others = totals(sockets.slice(0, -1));
	const all = totals(sockets);
	const run: PresenceRun = {
		mode,
		joins,
		frames: all.frames,
		bytes: all.bytes,
		lastListBytes,
		lastJoinBytesToOthers: others.bytes - before.bytes,
		lastJoinFramesToOthers: others.frames - before.frames,
		correct: sockets.every((s) => s.heard === joins),
		ms,
	};
	for (const s of sockets) s.ws.close();
	return run;
}

function totals(sockets: readonly Counted[]): { bytes: number; frames: number } {
	let bytes = 0;
	let frames = 0;
	for (const s of sockets) {
		bytes += s.bytes;
		frames += s.frames;
	}
	return { bytes, frames };
}

/** The scenario as `run.ts` runs scenarios: `options.stormClients` joins per mode (1000 by default). */
export async function presenceScenario(bench: { options: { stormClients: number }; log(line: string): void }): Promise<ScenarioResult> {
	const server = await startServer();
	const rows = new RowCollector('presence');
	const raw: PresenceRun[] = [];
	let faults = 0;
	try {
		for (const mode of ['full', 'window'] as const) {
			bench.log(`presence: ${bench.options.stormClients} sequential joins, ${mode}`);
			const run = await measurePresence(server, mode, bench.options.stormClients);
			raw.push(run);
			if (!run.correct) faults++;
			rows.add('ours', `${mode}: bytes received, all sockets`, 'bytes', run.bytes);
			rows.add('ours', `${mode}: frames received, all sockets`, 'frames', run.frames);
			rows.add('ours', `${mode}: bytes per join`, 'bytes', run.bytes / run.joins);
			rows.add('ours', `${mode}: last joiner's list`, 'bytes', run.lastListBytes);
			rows.add('ours', `${mode}: last join, per other member`, 'bytes', run.lastJoinBytesToOthers / (run.joins - 1));
		}
	} finally {
		await server.mf.dispose();
	}
	return { rows: rows.rows(), raw, faults };
}

if (import.meta.main) {
	const joins = Number(process.argv[2] ?? 1000);
	const result = await presenceScenario({ options: { stormClients: joins }, log: (line) => process.stderr.write(`[bench] ${line}\n`) });
	for (const row of result.rows) console.log(`${row.metric.padEnd(42)} ${Math.round(row.value).toLocaleString('en').padStart(14)} ${row.unit}`);
	for (const run of result.raw as PresenceRun[])
		console.log(
			`${run.mode}: ${Math.round(run.ms)} ms, last join ${run.lastJoinFramesToOthers} frames to ${run.joins - 1} others, every socket heard everyone: ${run.correct}`,
		);
	process.exit(result.faults === 0 ? 0 : 1);
}
