/**
 * The demo in Chromium, served by `wrangler dev` (workerd): two browser contexts are two people
 * (separate cookie jars) in the same organisation. Each sees the other in presence, a message one
 * sends appears for the other, closing one removes that person from the other's presence, and a
 * page from a foreign origin cannot open a socket even though the browser sends the victim's cookie.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildDemo, startDemo, type DemoServer } from './demo-server.js';

const STEP_MS = 15_000;

let demo: DemoServer | undefined;
let browser: Browser | undefined;
let foreign: ReturnType<typeof Bun.serve> | undefined;

beforeAll(async () => {
	buildDemo();
	demo = await startDemo();
	browser = await chromium.launch({
		executablePath: '/usr/bin/chromium',
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
		timeout: 30_000,
	});
}, 300_000);

afterAll(async () => {
	await browser?.close();
	await foreign?.stop(true);
	await demo?.stop();
}, 30_000);

/** What each page logged, to explain a failure. */
const logs: string[] = [];

/** A person: their own browser context, signed in to `org`, on the chat page, connected. */
async function signIn(name: string, org: string): Promise<{ context: BrowserContext; page: Page }> {
	const context = await browser!.newContext();
	context.setDefaultTimeout(STEP_MS);
	const page = await context.newPage();
	page.on('console', (message) => logs.push(`${name} console.${message.type()}: ${message.text()}`));
	page.on('pageerror', (error) => logs.push(`${name} page error: ${error.message}`));
	await page.goto(`${demo!.origin}/`);
	await page.locator('main[data-hydrated]').waitFor();
	await page.getByTestId('name').fill(name);
	await page.getByTestId('org').fill(org);
	await page.getByTestId('sign-in').click();
	await page.waitForURL(`${demo!.origin}/chat`);
	await page.locator('[data-testid="status"][data-status="connected"]').waitFor();
	return { context, page };
}

function presence(page: Page) {
	return page.getByTestId('presence').getByTestId('present');
}

/** Runs a browser scenario; if it fails, the error carries what the pages logged. */
async function explained(scenario: () => Promise<void>): Promise<void> {
	try {
		await scenario();
	} catch (error) {
		(error as Error).message += `\n--- browser logs ---\n${logs.join('\n') || '(none)'}`;
		throw error;
	}
}

describe('the demo in two browsers', () => {
	test('presence, chat, leaving, and a foreign origin refused', () => explained(async () => {
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
	}), 120_000);
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
