/**
 * The README's client pattern, mounted in Chromium exactly as a new user would write it
 * (tests/e2e/shared-page/Readme.svelte): an `$effect` that calls `ws.connect(data.org_id)` and
 * destroys the client on cleanup, with the status line in the markup. It must connect, and stay
 * connected: before `connect()` stopped subscribing the effect to the client's state, the first
 * status change re-ran the effect, which destroyed the client and left the page "disconnected".
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { Probe } from '../support/probe.js';
import type { RoomWorker } from '../support/workerd.js';
import { CHROMIUM, pageLogs, STEP_MS } from './browser.js';
import { buildPage, startPage } from './shared-page/serve.js';

declare global {
	interface Window {
		/** What the README component's status line showed, in order (tests/e2e/shared-page/readme.ts). */
		readme: { shown: string[] };
	}
}

const { watch, explained } = pageLogs();
let server: RoomWorker | undefined;
let context: BrowserContext | undefined;
let profile = '';

beforeAll(async () => {
	buildPage();
	server = await startPage();
	profile = mkdtempSync(join(tmpdir(), 'readme-profile-'));
	context = await chromium.launchPersistentContext(profile, CHROMIUM);
	context.setDefaultTimeout(STEP_MS);
}, 300_000);

afterAll(async () => {
	await context?.close();
	await server?.dispose();
	if (profile) rmSync(profile, { recursive: true, force: true });
}, 30_000);

test('the README component connects and stays connected', () => explained(async () => {
	const room = `readme-${crypto.randomUUID().slice(0, 8)}`;
	const page = await context!.newPage();
	watch(page, 'readme');
	const errors: string[] = [];
	page.on('console', (message) => {
		// (The browser's own 404 for /favicon.ico is not the component's.)
		if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) errors.push(message.text());
	});
	page.on('pageerror', (error) => errors.push(error.message));

	await page.goto(`${server!.origin}/readme.html?room=${encodeURIComponent(room)}`);
	await page.getByText('connected · 1 online', { exact: true }).waitFor();

	// Still the same live client: someone else joining shows up in the component.
	const bob = await Probe.join(server!, room, { user_id: 'bob' });
	await page.getByText('connected · 2 online', { exact: true }).waitFor();
	bob.close();

	const shown = await page.evaluate(() => window.readme.shown);
	// Once connected, it never left: no destroy, no "disconnected".
	const first = shown.indexOf('connected · 1 online');
	expect(first).toBeGreaterThanOrEqual(0);
	expect(shown.slice(first).every((text) => text.startsWith('connected · '))).toBe(true);
	expect(shown.slice(0, first).every((text) => text.startsWith('disconnected') || text.startsWith('connecting'))).toBe(true);
	expect(errors).toEqual([]);
	await page.close();
}), 60_000);
