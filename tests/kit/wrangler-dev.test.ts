/**
 * The handle's refusals under `wrangler dev`, the server users develop against: a refused socket
 * must reach the client as 4401 / 4403 without wrangler printing an error for it. (A socket a
 * stateless Worker closes before the client wrote anything makes it print "Uncaught Error: Network
 * connection lost." — see `socketRefusal`.) The client is the headless `RoomClient`, as a script
 * would use it.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClosedByRoom, RoomClient } from '../../client/headless.js';
import { stopProcessGroup, wranglerDev } from '../support/process.js';
import { bundleWorker } from '../support/workerd.js';

const root = join(import.meta.dir, '..', '..');
let wrangler: ChildProcess;
let origin: string;
let dir: string;
/** Everything wrangler printed since it was ready, colours stripped. */
let output = '';

beforeAll(async () => {
	const script = await bundleWorker('tests/kit/worker.ts', 'kit-wrangler-worker.js');
	dir = mkdtempSync(join(tmpdir(), 'kit-wrangler-'));
	writeFileSync(
		join(dir, 'wrangler.toml'),
		`name = "kit-refusals"
main = "${script}"
compatibility_date = "2026-04-20"
[[durable_objects.bindings]]
name = "ROOM"
class_name = "TestRoom"
[[migrations]]
tag = "v1"
new_sqlite_classes = ["TestRoom"]
`,
	);
	({ child: wrangler, origin } = await wranglerDev(join(root, 'node_modules', '.bin', 'wrangler'), dir, join(dir, 'state'), ['-c', 'wrangler.toml']));
	for (const stream of [wrangler.stdout, wrangler.stderr]) stream?.on('data', (chunk: Buffer) => (output += chunk.toString().replace(/\x1b\[[0-9;]*m/g, '')));
}, 120_000);

afterAll(async () => {
	if (wrangler) await stopProcessGroup(wrangler);
	if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Resolves once what wrangler printed satisfies `done` (checked as each chunk arrives). */
function printed(done: (output: string) => boolean): Promise<void> {
	return new Promise<void>((resolve) => {
		const check = () => {
			if (!done(output)) return;
			wrangler.stdout?.off('data', check);
			resolve();
		};
		wrangler.stdout?.on('data', check);
		check();
	});
}

/** Resolves once wrangler has logged a request for `path`, so everything it printed before is in `output`. */
async function logged(path: string): Promise<void> {
	const seen = printed((output) => output.includes(`GET ${path} `));
	await fetch(`${origin}${path}`);
	await seen;
}

test('refused sockets (401, 403) stop the client with the refusal, and wrangler dev prints no error for them', async () => {
	const WithOrigin = class extends WebSocket {
		constructor(url: string | URL) {
			// A browser sends its page's Origin itself; the handle refuses a socket without one.
			super(url, { headers: { origin } } as unknown as string[]);
		}
	};
	const refusals = [
		{ path: '/api/websocket', room: 'r-1', code: 'unauthorized' },
		{ path: '/custom/websocket?token=banned', room: 'r-2', code: 'forbidden' },
		{ path: '/custom/websocket', room: 'r-3', code: 'unauthorized' },
	];
	for (const { path, room, code } of refusals) {
		const client = new RoomClient({ url: `${origin.replace(/^http/, 'ws')}${path}`, WebSocket: WithOrigin });
		const refused = await client.connect(room).then(
			() => undefined,
			(error: unknown) => error,
		);
		expect(refused).toBeInstanceOf(ClosedByRoom);
		expect(client.error?.code).toBe(code);
		expect(client.status).toBe('disconnected');
		client.destroy();
	}
	await logged('/after-refusals');
	// wrangler logs a socket's request when the socket is over, which under load can be after the
	// marker's: wait for the three (the test's timeout bounds the wait).
	const upgrades = /GET \/(api|custom)\/websocket 101/g;
	await printed((output) => (output.match(upgrades)?.length ?? 0) >= 3);
	expect(output.match(upgrades)).toHaveLength(3);
	expect(output).not.toContain('Network connection lost');
	expect(output).not.toContain('[ERROR]');
}, 60_000);
