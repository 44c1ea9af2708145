/**
 * capnweb off the first load, in Chromium: the page (tests/e2e/shared-page, built by Vite from
 * dist/ as an app builds it) gets capnweb's sessions as a chunk of their own, which it asks for
 * once connected and otherwise only for a call that needs a session. The chunk is held back here
 * (refused as by a network that is down) to show that plain calls and events never need it, that a
 * pipelined call fails clearly without it, and that a later one loads it.
 */
import { afterAll, beforeAll, expect } from 'bun:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { RoomWorker } from '../support/workerd.js';
import { CHROMIUM, pageLogs, STEP_MS } from './browser.js';
import { buildPage, startPage } from './shared-page/serve.js';

/** What the test page exposes (tests/e2e/shared-page/main.ts), as far as this test uses it. */
interface App {
	seen: Array<{ event: string; data: unknown }>;
	status(): string;
	texts(): string[];
	post(text: string): Promise<unknown>;
	echo<T>(value: T): Promise<T>;
	count(start: number, by: number): Promise<number>;
	failure(error: unknown): { name: string; code?: string; message: string };
}
declare const app: App;

const logs = pageLogs(60);
let server: RoomWorker;
let browser: Browser;

beforeAll(async () => {
	buildPage();
	[server, browser] = await Promise.all([startPage(), chromium.launch(CHROMIUM)]);
}, 240_000);

afterAll(async () => {
	await browser?.close();
	await server?.dispose();
});

/** The capnweb chunk Vite emitted for `calls/session-batch.ts`. */
const CHUNK = /\/assets\/session-batch-[^/]*\.js$/;

async function open(room: string, user: string, chunk: { requests: number; refuse: boolean }): Promise<Page> {
	const page = await browser.newPage();
	page.setDefaultTimeout(STEP_MS);
	logs.watch(page, user);
	await page.route(CHUNK, (route) => {
		chunk.requests++;
		return chunk.refuse ? route.abort('internetdisconnected') : route.continue();
	});
	await page.goto(`${server.origin}/?room=${encodeURIComponent(room)}&user=${user}`);
	await page.waitForFunction(() => app.status() === 'connected');
	return page;
}

logs.scenario(
	'plain calls and events work without the chunk; a pipelined call fails clearly without it, and loads it later',
	async () => {
		const room = `lazy-${Date.now()}`;
		const chunk = { requests: 0, refuse: true };
		const ann = await open(room, 'ann', chunk);
		const bob = await open(room, 'bob', chunk);

		expect(await ann.evaluate(() => app.echo({ n: 1, list: [1, 'a'] }))).toEqual({ n: 1, list: [1, 'a'] });
		await ann.evaluate(() => app.post('hello bob'));
		await bob.waitForFunction(() => app.texts().includes('hello bob'));
		// Presence comes as events too: ann heard bob join, without capnweb.
		expect(await ann.evaluate(() => app.seen.some((e) => e.event === 'session:connected'))).toBe(true);
		// Asked for once connected (and refused), so never run.
		expect(chunk.requests).toBeGreaterThan(0);

		const failed = await ann.evaluate(() =>
			app.count(1, 2).then(
				() => null,
				(e: unknown) => app.failure(e),
			),
		);
		expect(failed).toMatchObject({ name: 'RoomError', code: 'sessions_unavailable' });
		expect(failed!.message).toContain('could not be loaded');
		// The socket is fine.
		expect(await ann.evaluate(() => app.echo('still here'))).toBe('still here');

		// The next call asks for the chunk again. Whether the browser fetches it again is the
		// browser's: Chromium (150 at least) keeps a failed module fetch for the page's life
		// (whatwg/html#10327 changes that), and then the call fails as clearly as before, and a
		// reload brings the chunk.
		chunk.refuse = false;
		const asked = chunk.requests;
		const again = await ann.evaluate(() =>
			app.count(1, 2).then(
				(n) => ({ n }),
				(e: unknown) => ({ failed: app.failure(e) }),
			),
		);
		if (chunk.requests > asked) expect(again).toEqual({ n: 3 });
		else {
			expect(again).toMatchObject({ failed: { name: 'RoomError', code: 'sessions_unavailable' } });
			await ann.reload();
			await ann.waitForFunction(() => app.status() === 'connected');
			expect(await ann.evaluate(() => app.count(1, 2))).toBe(3);
			expect(chunk.requests).toBeGreaterThan(asked);
		}
		await ann.close();
		await bob.close();
	},
	120_000,
);
