/**
 * Run as its own process by tests/client/ssr.test.ts: imports and uses `WebsocketClient` the way
 * server-side rendering would, with rune modules compiled for `process.argv[2]` ('server' as
 * SvelteKit's SSR build does, or 'client'), and reports as JSON every browser global it touched.
 *
 * There is no `window` here (as on a server); the other browser-ish globals Bun does have are
 * replaced by getters that record each read and where it came from.
 */
import { plugin } from 'bun';
import { svelteModules } from './svelte-plugin.js';

const generate = process.argv[2] === 'server' ? 'server' : 'client';
plugin(svelteModules({ generate }));

const WATCHED = [
	'document',
	'location',
	'navigator',
	'WebSocket',
	'addEventListener',
	'removeEventListener',
	'localStorage',
	'sessionStorage',
	'BroadcastChannel',
	'SharedWorker',
	'Worker',
	'MessageChannel',
	'fetch',
] as const;

/** `name ← file:line` of each read, from the first stack frame outside this file. */
const touched = new Set<string>();
for (const name of WATCHED) {
	const original = Object.getOwnPropertyDescriptor(globalThis, name);
	const value = original?.get ? original.get.call(globalThis) : original?.value;
	Object.defineProperty(globalThis, name, {
		configurable: true,
		get() {
			const frames = (new Error().stack ?? '').split('\n').slice(1);
			const from = frames.find((f) => !f.includes('ssr-probe')) ?? '?';
			touched.add(`${name} ← ${from.trim().replace(/^at\s+/, '')}`);
			return value;
		},
	});
}

const { WebsocketClient } = await import('../../client/index.js');
const ws = new WebsocketClient<{ user_id: string }, { 'chat:message': { text: string } }>();
const state = {
	status: ws.status,
	connected: ws.connected,
	room: ws.room,
	sessions: ws.sessions,
	users: ws.users,
	isLive: ws.isLive,
	error: ws.error,
	nextRetry: ws.nextRetry,
};
const off = ws.on('chat:message', () => {});
off();
ws.once('*', () => {});
await ws.connect('room-1');
const afterConnect = { status: ws.status, room: ws.room };
const send = await ws.send('chat:message', { text: 'hi' }).then(
	() => 'resolved',
	(e: Error) => e.name,
);
const rpc = await (ws.rpc as unknown as { anything(): Promise<unknown> }).anything().then(
	() => 'resolved',
	(e: Error) => e.name,
);
ws.disconnect();
ws.destroy();

console.log(JSON.stringify({ hasWindow: typeof window !== 'undefined', touched: [...touched], state, afterConnect, send, rpc }));
