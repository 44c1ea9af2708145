/**
 * The path from `sv create` to a connected page, as the README tells it: the app of "Getting
 * started" (tests/package/app.ts, installing the packed tarball), in real Chromium.
 *
 * - Built (`vite build`, `withRooms` over adapter-cloudflare) and served by `wrangler dev` on
 *   127.0.0.1: two browsers (two persistent contexts, so two guests) connect, see each other in
 *   presence, and one's message reaches the other through the room's RPC.
 * - `vite dev` with the package's `rooms()` plugin: a browser connects through the app's own handle
 *   to the room running in local workerd, a second one appears in its presence, and server code
 *   reaches the same rooms through `platform.env.WS`; a socket the app's handle refuses with 403
 *   closes with 4403 as in production, and one with a foreign Origin or no room never opens; a
 *   change to the room module reloads the rooms.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ackFrame } from '../../rpc/frame.js';
import { CHROMIUM, STEP_MS, pageLogs } from '../e2e/browser.js';
import { refusalNotice, statingWire } from '../kit/sockets.js';
import { readyLine, stopProcessGroup, wranglerDev } from '../support/process.js';
import { builtApp, preparedApp, write, type PreparedApp } from './app.js';

const logs = pageLogs(60);
const contexts: BrowserContext[] = [];
const scratch: string[] = [];

afterAll(async () => {
	await Promise.all(contexts.map((context) => context.close()));
	for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/** A browser of its own (own cookies, so its own guest), on `origin`'s page. */
async function visitor(origin: string, name: string): Promise<Page> {
	const profile = mkdtempSync(join(tmpdir(), 'fresh-app-browser-'));
	scratch.push(profile);
	const context = await chromium.launchPersistentContext(profile, CHROMIUM);
	contexts.push(context);
	const page = context.pages()[0] ?? (await context.newPage());
	page.setDefaultTimeout(STEP_MS);
	logs.watch(page, name);
	await page.goto(origin);
	return page;
}

async function connected(page: Page): Promise<void> {
	await page.locator('p[data-status="connected"]').waitFor();
}

/** The names in the page's presence list once it shows `count` of them. */
async function presence(page: Page, count: number): Promise<string[]> {
	await page
		.locator('[data-testid="users"] li')
		.nth(count - 1)
		.waitFor();
	return (await page.locator('[data-testid="users"] li').allTextContents()).sort();
}

async function guestName(page: Page): Promise<string> {
	const cookie = (await page.context().cookies()).find((c) => c.name === 'guest');
	expect(cookie?.value).toMatch(/^guest-[0-9a-f]{8}$/);
	return cookie!.value;
}

async function closeAll(): Promise<void> {
	await Promise.all(contexts.splice(0).map((context) => context.close()));
}

function serve(app: PreparedApp, command: string, args: string[]): ChildProcess {
	return spawn(app.bin(command), args, {
		cwd: app.dir,
		env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1' },
		stdio: ['ignore', 'pipe', 'pipe'],
		detached: true,
	});
}

describe('built, under wrangler dev', () => {
	let wrangler: ChildProcess;
	let origin: string;

	beforeAll(async () => {
		const app = await builtApp();
		const state = mkdtempSync(join(tmpdir(), 'fresh-app-state-'));
		scratch.push(state);
		({ child: wrangler, origin } = await wranglerDev(app.bin('wrangler'), app.dir, state));
	}, 600_000);

	afterAll(async () => {
		await closeAll();
		if (wrangler) await stopProcessGroup(wrangler);
	});

	logs.scenario(
		'two browsers connect, see each other in presence, and talk through the room',
		async () => {
			const ann = await visitor(origin, 'ann');
			const bob = await visitor(origin, 'bob');
			await Promise.all([connected(ann), connected(bob)]);
			const names = [await guestName(ann), await guestName(bob)].sort();
			expect(names[0]).not.toBe(names[1]);
			expect(await presence(ann, 2)).toEqual(names);
			expect(await presence(bob, 2)).toEqual(names);

			await ann.locator('input').fill('hello from ann');
			await ann.locator('button').click();
			await bob.getByText('hello from ann').waitFor();
			expect(await bob.locator('p b').first().textContent()).toBe(await guestName(ann));
		},
		120_000,
	);
});

describe('vite dev, with the rooms() plugin', () => {
	let vite: ChildProcess;
	let origin: string;
	let app: PreparedApp;

	let hooks: string;
	let room: string | undefined;

	beforeAll(async () => {
		app = await preparedApp();
		// An app whose authorize also refuses (the README's lets every guest in): room "closed" is 403.
		const hooksFile = join(app.dir, 'src', 'hooks.server.ts');
		hooks = readFileSync(hooksFile, 'utf8');
		const refusing = hooks.replace('if (!name) return; // 401', "if (room === 'closed') error(403, 'This room is closed');\n\t\t\tif (!name) return; // 401");
		expect(refusing).not.toBe(hooks);
		write(hooksFile, `import { error } from '@sveltejs/kit';\n${refusing}`);
		// Server code reaching the rooms in dev, as an endpoint would: what platform.env.WS says of a room.
		write(
			join(app.dir, 'src', 'routes', 'who', '[room]', '+server.ts'),
			`import { json } from '@sveltejs/kit';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async ({ params, platform }) => {
	const rooms = platform!.env.WS;
	const sessions = await rooms.get(rooms.idFromName(params.room)).getSessions();
	return json(sessions.map((session) => session.meta.user_name));
};
`,
		);
		vite = serve(app, 'vite', ['dev', '--host', '127.0.0.1', '--port', '0', '--clearScreen', 'false']);
		origin = await readyLine(vite, 'vite dev', /Local:\s+(http:\/\/127\.0\.0\.1:\d+)/, 90_000);
	}, 600_000);

	afterAll(async () => {
		await closeAll();
		if (vite) await stopProcessGroup(vite);
		rmSync(join(app.dir, 'src', 'routes', 'who'), { recursive: true, force: true });
		if (hooks) write(join(app.dir, 'src', 'hooks.server.ts'), hooks);
		if (room) write(join(app.dir, 'src', 'lib', 'server', 'room.ts'), room);
	});

	logs.scenario(
		'a browser connects through the app’s handle into the room in local workerd; a second one joins its presence',
		async () => {
			const ann = await visitor(origin, 'dev-ann');
			await connected(ann);
			const ann_name = await guestName(ann);
			expect(await presence(ann, 1)).toEqual([ann_name]);

			const bob = await visitor(origin, 'dev-bob');
			await connected(bob);
			expect(await presence(ann, 2)).toEqual([ann_name, await guestName(bob)].sort());

			// platform.env.WS in server code is the same room the browsers are in.
			const who = await fetch(`${origin}/who/lobby`, { signal: AbortSignal.timeout(STEP_MS) });
			expect(who.status).toBe(200);
			expect(((await who.json()) as string[]).sort()).toEqual([ann_name, await guestName(bob)].sort());
		},
		120_000,
	);

	test('the app’s own handle decides: its 403 closes the socket with 4403; a foreign Origin or a bad room never opens one', async () => {
		const wsOrigin = origin.replace(/^http/, 'ws');
		// Bun's WebSocket sends the headers it is given, as a browser sends its own.
		const Headered = WebSocket as unknown as new (url: string, options: { headers: Record<string, string> }) => WebSocket;
		const guest = 'guest=guest-0000ffff';
		const outcome = (path: string, headers: Record<string, string>) =>
			new Promise<{ opened: boolean; code: number; reason: string }>((resolve) => {
				const ws = new Headered(`${wsOrigin}${statingWire(path)}`, { headers });
				let opened = false;
				ws.addEventListener('open', () => (opened = true), { once: true });
				// Answered as every client does, so the handle closes it at once (see `socketRefusal`).
				ws.addEventListener('message', (e) => ws.send(ackFrame(refusalNotice(String(e.data)).nonce)));
				ws.addEventListener('close', (e) => resolve({ opened, code: e.code, reason: e.reason }), { once: true });
			});

		expect(await outcome('/api/websocket?room=closed', { origin, cookie: guest })).toEqual({
			opened: true,
			code: 4403,
			reason: 'forbidden: This room is closed',
		});
		expect((await outcome('/api/websocket?room=lobby', { origin: 'https://evil.example', cookie: guest })).opened).toBe(false);
		expect((await outcome('/api/websocket', { origin, cookie: guest })).opened).toBe(false);

		// None of them reached a room.
		for (const room of ['closed', 'lobby']) {
			const who = await fetch(`${origin}/who/${room}`, { signal: AbortSignal.timeout(STEP_MS) });
			expect(((await who.json()) as string[]).includes('guest-0000ffff')).toBe(false);
		}
	}, 60_000);

	logs.scenario('a change to the room module reloads the rooms: the next socket meets the new code', async () => {
		const file = join(app.dir, 'src', 'lib', 'server', 'room.ts');
		room = readFileSync(file, 'utf8');
		const changed = room.replace('from: this.session.meta.user_name', "from: 'the reloaded room'");
		expect(changed).not.toBe(room);
		const reloaded = readyLine(vite, 'the rooms reload', /(rooms reloaded)/, 30_000);
		write(file, changed);
		await reloaded;

		const cy = await visitor(origin, 'dev-cy');
		await connected(cy);
		await cy.locator('input').fill('after the change');
		await cy.locator('button').click();
		await cy.getByText('after the change').waitFor();
		expect(await cy.locator('p b').first().textContent()).toBe('the reloaded room');
	});

	test('the page renders on the server, and the SharedWorker script is served from the package', async () => {
		const page = await fetch(`${origin}/`, { signal: AbortSignal.timeout(30_000) });
		expect(page.status).toBe(200);
		expect(await page.text()).toContain('data-status="disconnected"');
		// In the browser, the package is served as its own modules (a Svelte library is not
		// pre-bundled), so `new URL('./shared/worker.js', import.meta.url)` finds the worker's file.
		const loaderUrl = `${origin}/node_modules/@delightstack/websocket/dist/client/shared-worker.js`;
		const loader = await fetch(loaderUrl, { signal: AbortSignal.timeout(30_000) });
		expect(loader.status).toBe(200);
		const workerUrl = /new SharedWorker\(\s*new URL\((?:\/\*[^*]*\*\/)?\s*["']([^"']+)["']/.exec(await loader.text())?.[1];
		expect(workerUrl).toBeDefined();
		const worker = await fetch(new URL(workerUrl!, loaderUrl), { signal: AbortSignal.timeout(30_000) });
		expect(worker.status).toBe(200);
		expect(await worker.text()).toContain('onconnect');
	}, 60_000);
});
