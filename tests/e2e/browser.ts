/**
 * What the browser tests share: how Chromium is launched, what its pages logged (to explain a
 * failure), and signing in to the demo.
 */
import { test } from 'bun:test';
import type { Page } from 'playwright-core';

/** How long one step (a navigation, a wait for an element) may take. */
export const STEP_MS = 15_000;

/** Launch options for the system's Chromium, headless, for `chromium.launch` and `launchPersistentContext`. */
export const CHROMIUM = {
	executablePath: '/usr/bin/chromium',
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
	timeout: 30_000,
};

/** What a test file's pages log, kept to explain a failure: the last `keep` lines (all by default). */
export function pageLogs(keep = Infinity) {
	const logs: string[] = [];
	async function explained(scenario: () => Promise<void>): Promise<void> {
		try {
			await scenario();
		} catch (error) {
			(error as Error).message += `\n--- browser logs ---\n${logs.slice(-keep).join('\n') || '(none)'}`;
			throw error;
		}
	}
	return {
		/** Records what `page` logs, its errors and its crash, under `name`. */
		watch(page: Page, name: string): void {
			page.on('console', (message) => logs.push(`${name} console.${message.type()}: ${message.text()}`));
			page.on('pageerror', (error) => logs.push(`${name} page error: ${error.message}`));
			page.on('crash', () => logs.push(`${name} crashed`));
		},
		/** Runs a browser scenario; if it fails, the error carries what the pages logged. */
		explained,
		/** A test of a browser scenario (see `explained`), given `timeoutMs` (60 s by default) in all. */
		scenario(name: string, run: () => Promise<void>, timeoutMs = 60_000): void {
			test(name, () => explained(run), timeoutMs);
		},
	};
}

/** Signs `page` in to the demo at `origin` as `name` of `org`, and waits for the chat page's socket. */
export async function signInPage(page: Page, origin: string, name: string, org: string): Promise<void> {
	await page.goto(`${origin}/`);
	await page.locator('main[data-hydrated]').waitFor();
	await page.getByTestId('name').fill(name);
	await page.getByTestId('org').fill(org);
	await page.getByTestId('sign-in').click();
	await page.waitForURL(`${origin}/chat`);
	await page.locator('[data-testid="status"][data-status="connected"]').waitFor();
}
