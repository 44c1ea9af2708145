/**
 * The demo in Chromium, served by `wrangler dev` (workerd): two browser contexts are two people
 * (separate cookie jars) in the same organisation. Each sees the other in presence, a message one
 * sends appears for the other, closing one removes that person from the other's presence, and a
 * page from a foreign origin cannot open a socket even though the browser sends the victim's cookie.
 *
 * The live todo list: todos one person adds, ticks off or removes appear for the other through the
 * room's change feed (endpoint → Workers RPC → `entityChanged` → `ws.databaseHooks()`), and a
 * person who was offline while todos changed sees every change once back, replayed by the feed
 * rather than refetched.
 */
import { afterAll, beforeAll, describe, expect } from 'bun:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM, pageLogs, signInPage, STEP_MS } from './browser.js';
import { buildDemo, startDemo, startNetworkLink, type DemoServer, type NetworkLink } from './demo-server.js';

let demo: DemoServer | undefined;
let browser: Browser | undefined;
let foreign: ReturnType<typeof Bun.serve> | undefined;
/** Bob's network in the todo test, which it cuts. */
let bobsNetwork: NetworkLink | undefined;

beforeAll(async () => {
	buildDemo();
	demo = await startDemo();
	browser = await chromium.launch(CHROMIUM);
}, 300_000);

afterAll(async () => {
	await browser?.close();
	await foreign?.stop(true);
	await bobsNetwork?.close();
	await demo?.stop();
}, 30_000);

/** What each page logged, to explain a failure. */
const { watch, scenario } = pageLogs();

/** A person: their own browser context, signed in to `org`, on the chat page, connected. */
async function signIn(name: string, org: string, origin = demo!.origin): Promise<{ context: BrowserContext; page: Page }> {
	const context = await browser!.newContext();
	context.setDefaultTimeout(STEP_MS);
	const page = await context.newPage();
	watch(page, name);
	await signInPage(page, origin, name, org);
	return { context, page };
}

function presence(page: Page) {
	return page.getByTestId('presence').getByTestId('present');
}

describe('the demo in two browsers', () => {
	scenario(
		'presence, chat, leaving, and a foreign origin refused',
		async () => {
			const org = `team-${crypto.randomUUID().slice(0, 8)}`;
			const ada = await signIn('Ada', org);
			const bob = await signIn('Bob', org);

			// Each sees the other (and themselves).
			await presence(ada.page).filter({ hasText: 'Bob' }).waitFor();
			await presence(bob.page).filter({ hasText: 'Ada' }).waitFor();
			expect(await presence(ada.page).count()).toBe(2);

			// A message from Ada appears for Bob.
			const text = `hello from Ada ${crypto.randomUUID().slice(0, 6)}`;
			await ada.page.getByTestId('draft').fill(text);
			await ada.page.getByTestId('send').click();
			await bob.page.getByTestId('message').filter({ hasText: text }).waitFor();
			await ada.page.getByTestId('message').filter({ hasText: text }).waitFor();

			// Bob closes his browser: he leaves Ada's presence (after the client's leave grace period).
			await bob.context.close();
			await presence(ada.page).filter({ hasText: 'Bob' }).waitFor({ state: 'detached', timeout: 20_000 });
			expect(await presence(ada.page).count()).toBe(1);

			// A page on another origin tries to open a socket into Ada's room. Same host, other port: the
			// browser sends Ada's cookie along (cookies ignore ports), so only the Origin check stands in the way.
			foreign = Bun.serve({
				hostname: '127.0.0.1',
				port: 0,
				fetch: () => new Response('<!doctype html><title>elsewhere</title>', { headers: { 'content-type': 'text/html' } }),
			});
			const attacker = await ada.context.newPage();
			await attacker.goto(`http://127.0.0.1:${foreign.port}/`);
			const socketUrl = `${demo!.origin.replace('http', 'ws')}/api/websocket?room=${org}`;
			const fromForeign = await attacker.evaluate(tryOpen, socketUrl);
			expect(fromForeign).toBe('refused');
			// The same attempt from the demo's own origin opens: the refusal was about the origin.
			expect(await ada.page.evaluate(tryOpen, socketUrl)).toBe('open');
		},
		120_000,
	);
});

describe('the live todo list in two browsers', () => {
	scenario(
		'adds, toggles and removals show up in the other browser; changes missed offline are replayed',
		async () => {
			const org = `todo-${crypto.randomUUID().slice(0, 8)}`;
			// Bob reaches the demo through a network link of his own, which the test can cut.
			bobsNetwork = await startNetworkLink(demo!.origin);
			const ada = await signIn('Ada', org);
			const bob = await signIn('Bob', org, bobsNetwork.origin);
			const todos = (page: Page) => page.getByTestId('todos').getByTestId('todo');
			const todo = (page: Page, title: string) => todos(page).filter({ hasText: title });
			const add = async (page: Page, title: string) => {
				await page.getByTestId('todo-draft').fill(title);
				await page.getByTestId('todo-add').click();
			};

			// Ada adds: it appears for Bob, and for Ada herself, through the feed.
			await add(ada.page, 'water the plants');
			await todo(bob.page, 'water the plants').waitFor();
			await todo(ada.page, 'water the plants').waitFor();

			// Bob ticks it off; Ada sees it done.
			await todo(bob.page, 'water the plants').getByTestId('todo-toggle').check();
			await ada.page.locator('[data-testid="todo"][data-done="true"]', { hasText: 'water the plants' }).waitFor();

			// Bob adds one and Ada removes it again.
			await add(bob.page, 'buy bread');
			await todo(ada.page, 'buy bread').waitFor();
			await todo(ada.page, 'buy bread').getByTestId('todo-remove').click();
			await todo(bob.page, 'buy bread').waitFor({ state: 'detached' });
			await todo(ada.page, 'buy bread').waitFor({ state: 'detached' });

			// Two more, then the list as the server renders it (the page's load) has all that happened.
			await add(ada.page, 'call the plumber');
			await add(ada.page, 'pay rent');
			await todo(bob.page, 'call the plumber').waitFor();
			await todo(bob.page, 'pay rent').waitFor();
			const html = await (await ada.context.request.get(`${demo!.origin}/chat`)).text();
			expect(html).toContain('call the plumber');
			expect(html).not.toContain('buy bread');

			// Bob goes offline: the browser says so (requests fail, `offline` fires), and his network drops
			// every connection, the socket included (`setOffline` alone leaves open WebSockets open:
			// microsoft/playwright#4910), and refuses new ones.
			const bobListRequests: string[] = [];
			bob.page.on('request', (request) => {
				if (request.method() === 'GET' && new URL(request.url()).pathname === '/chat/todos') bobListRequests.push(request.url());
			});
			await bob.context.setOffline(true);
			bobsNetwork.cut();
			await bob.page.locator('[data-testid="status"][data-status="reconnecting"]').waitFor();

			// Meanwhile Ada adds one, ticks one off and removes one.
			await add(ada.page, 'book the venue');
			await todo(ada.page, 'book the venue').waitFor();
			await todo(ada.page, 'call the plumber').getByTestId('todo-toggle').check();
			await ada.page.locator('[data-testid="todo"][data-done="true"]', { hasText: 'call the plumber' }).waitFor();
			await todo(ada.page, 'pay rent').getByTestId('todo-remove').click();
			await todo(ada.page, 'pay rent').waitFor({ state: 'detached' });

			// Bob has none of it yet: he has no socket, and cannot make one.
			expect(await todo(bob.page, 'book the venue').count()).toBe(0);
			expect(await todo(bob.page, 'call the plumber').getAttribute('data-done')).toBe('false');
			expect(await todo(bob.page, 'pay rent').count()).toBe(1);

			// Back online: the client reconnects, the room replays what Bob missed, and his list matches Ada's.
			bobsNetwork.restore();
			await bob.context.setOffline(false);
			await bob.page.locator('[data-testid="status"][data-status="connected"]').waitFor();
			await todo(bob.page, 'book the venue').waitFor();
			await bob.page.locator('[data-testid="todo"][data-done="true"]', { hasText: 'call the plumber' }).waitFor();
			await todo(bob.page, 'pay rent').waitFor({ state: 'detached' });
			const titles = (page: Page) => todos(page).locator('.title').allTextContents();
			expect(await titles(bob.page)).toEqual(await titles(ada.page));
			expect(await titles(bob.page)).toEqual(['water the plants', 'call the plumber', 'book the venue']);
			// Replayed by the change feed, not refetched.
			expect(bobListRequests).toEqual([]);

			// The endpoints refuse what they should: a cross-site-able body, a bad title, a gone todo, no session.
			const api = ada.context.request;
			const todosUrl = `${demo!.origin}/chat/todos`;
			expect((await api.post(todosUrl, { data: 'title', headers: { 'content-type': 'text/plain' } })).status()).toBe(403);
			expect((await api.post(todosUrl, { data: { title: ' ' } })).status()).toBe(400);
			expect((await api.patch(`${todosUrl}/no-such-todo`, { data: { done: true } })).status()).toBe(404);
			const stranger = await browser!.newContext();
			expect((await stranger.request.post(todosUrl, { data: { title: 'sneaky' } })).status()).toBe(401);
			await stranger.close();
			expect(await titles(ada.page)).toEqual(['water the plants', 'call the plumber', 'book the venue']);

			await ada.context.close();
			await bob.context.close();
		},
		120_000,
	);
});

/** Runs in the page: opens a WebSocket and reports whether it opened or was refused. */
function tryOpen(url: string): Promise<'open' | 'refused'> {
	return new Promise((resolve) => {
		const ws = new WebSocket(url);
		ws.onopen = () => {
			ws.close();
			resolve('open');
		};
		ws.onclose = () => resolve('refused');
	});
}
