/**
 * Run as its own process by tests/client/headless.test.ts, with plain `bun` (no test preload, so no
 * rune compiler): imports the headless client, joins the room at `process.argv[2]` (a full ws://
 * URL) and reports what it saw as JSON. A rune module anywhere in its imports would fail here
 * (`$state is not defined`).
 */
import { RoomClient, RoomError } from '../../client/headless.js';
import type { TestApi, TestEvents, TestMeta } from '../worker/index.js';

const client = new RoomClient<TestMeta, TestEvents, TestApi>({ url: () => process.argv[2]! });
const statuses: string[] = [];
client.on('ws:connected', () => statuses.push(client.status));
await client.connect('probe');
const sum = await client.rpc.add(2, 3);
const refused = await client.rpc.fail('nope').catch((e: unknown) => e);
const svelteLoaded = Object.keys(require.cache).some((path) => path.includes('/node_modules/svelte/'));
client.destroy();
console.log(
	JSON.stringify({
		statuses,
		sessions: client.sessions.length,
		sum,
		refused: refused instanceof RoomError ? refused.code : String(refused),
		svelteLoaded,
		after: client.status,
	}),
);
