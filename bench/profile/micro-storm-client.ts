/**
 * One run of `micro-storm.ts` (which bundles and starts it): a crowd of `WebsocketClient`s fed the
 * room's frames through fake sockets. Prints one JSON line: CPU µs per client for the join, of it
 * construct + connect, and CPU µs per delivered event.
 */
import { readFileSync } from 'node:fs';
import { WebsocketClient } from '../../client/index.js';
import { FakeSocket } from './fake-socket.js';

const script = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as {
	lists: string[][];
	waves: { from: number; to: number; announce: string[]; joiners: string[][] }[];
	events: string[];
};

/** A socket of the crowd, kept in `sockets` in the order they were made. */
class CrowdSocket extends FakeSocket {
	constructor(url: string | URL) {
		super(url);
		sockets.push(this);
	}
}
const sockets: CrowdSocket[] = [];
const macrotask = () => new Promise((resolve) => setTimeout(resolve, 0));

const cpuUs = (since: NodeJS.CpuUsage) => {
	const used = process.cpuUsage(since);
	return used.user + used.system;
};

const n = script.lists.length;
/** This process holds every `stride`th joiner (the bench spreads a crowd over processes so). */
const stride = Number(process.argv[3] ?? 1);
const cpu = process.cpuUsage();
let constructUs = 0;
const crowd: WebsocketClient<{ user_id: string }>[] = [];
for (const { from, to, announce, joiners } of script.waves) {
	const before = process.cpuUsage();
	const joined: Promise<void>[] = [];
	const mine: number[] = [];
	const already = sockets.length;
	for (let i = from; i < to; i++) {
		if (i % stride !== 0) continue;
		const ws = new WebsocketClient<{ user_id: string }>({ url: () => 'ws://fake/', shared: false, WebSocket: CrowdSocket as unknown as typeof WebSocket });
		ws.on('session:list', () => {});
		ws.on('session:connected', () => {});
		crowd.push(ws);
		mine.push(i);
		joined.push(ws.connect('room'));
	}
	// The socket chunk loads, then each socket opens.
	for (let turns = 0; sockets.length < already + mine.length; turns++) {
		if (turns > 10_000) throw new Error('the sockets never opened');
		await macrotask();
	}
	await macrotask();
	constructUs += cpuUs(before);
	mine.forEach((i, at) => {
		for (const frame of script.lists[i]!) sockets[already + at]!.deliver(frame);
	});
	await Promise.all(joined);
	// Everyone already in hears of the wave; each joiner of the wave of those after it.
	for (let s = 0; s < already; s++) for (const frame of announce) sockets[s]!.deliver(frame);
	mine.forEach((i, at) => {
		for (const frame of joiners[i - from]!) sockets[already + at]!.deliver(frame);
	});
	await macrotask();
}
const joinUs = cpuUs(cpu);
for (const ws of crowd) if (ws.presence.sessionCount !== n) throw new Error(`a client knows ${ws.presence.sessionCount} of ${n}`);

let delivered = 0;
for (const ws of crowd) ws.on('bench:shout' as never, () => void delivered++);
const eventsCpu = process.cpuUsage();
for (const frame of script.events) {
	for (const socket of sockets) socket.deliver(frame);
	await macrotask();
}
const deliveryUs = cpuUs(eventsCpu) / delivered;
if (delivered !== crowd.length * script.events.length) throw new Error(`delivered ${delivered}`);
console.log(JSON.stringify({ join: joinUs / crowd.length, construct: constructUs / crowd.length, delivery: deliveryUs }));
process.exit(0);
