/**
 * One socket per room for all tabs, in Chromium. Pages of one persistent context share a
 * SharedWorker, as the tabs of one browser profile do.
 *
 * Most cases use a page of our own (tests/e2e/shared-page: a bare client recording every event and
 * every port message, built by Vite from dist/ and served with the test room from workerd) because
 * counting deliveries needs a page that does not deduplicate them; one mounts the README's
 * component (shared-page/Readme.svelte) the same way. The last case checks the demo's
 * production build: the worker asset is emitted and its tabs share one session.
 *
 * The bound under test for a tab that dies without `pagehide`: released by the heartbeat within
 * (3 + 1) × 2 s = 8 s of its last answer (client/shared/protocol.ts).
 */
import { afterAll, beforeAll, describe, expect } from 'bun:test';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { HEARTBEAT_INTERVAL_MS, HEARTBEAT_MISSES, type WorkerMessage } from '../../client/shared/protocol.js';
import { Probe } from '../support/probe.js';
import type { RoomWorker } from '../support/workerd.js';
import type { TestMeta } from '../worker/index.js';
import { CHROMIUM, pageLogs, signInPage, STEP_MS } from './browser.js';
import { buildDemo, startDemo, type DemoServer } from './demo-server.js';
import { buildPage, startPage } from './shared-page/serve.js';

const root = join(import.meta.dir, '..', '..');
const RELEASE_BOUND_MS = (HEARTBEAT_MISSES + 1) * HEARTBEAT_INTERVAL_MS;
/** How soon tabs must notice the browser going offline: at once, not after a keep-alive timeout (30 s + 10 s). */
const OFFLINE_NOTICED_MS = 3_000;
/** The soonest the heartbeat can release a silent tab: a release before it was not the heartbeat's. */
const HEARTBEAT_FLOOR_MS = (HEARTBEAT_MISSES - 1) * HEARTBEAT_INTERVAL_MS;

/** What the test page exposes (tests/e2e/shared-page/main.ts). */
interface App {
	seen: Array<{ event: string; data: any }>;
	sessionsAtConnect: number[];
	calls: number;
	status(): string;
	sessions(): string[];
	texts(): string[];
	post(text: string): Promise<unknown>;
	echo<T>(value: T): Promise<T>;
	disconnect(): void;
	follow(): void;
	changes(): Array<{ type: string; id: unknown }>;
	live(): boolean;
}
declare global {
	interface Window {
		app: App;
		/** Every message the page's SharedWorker ports received (the tap below). */
		portLog?: WorkerMessage[];
		/** What the README component's status line showed, in order (shared-page/readme.ts). */
		readme: { shown: string[] };
	}
}

/** Runs in every page first: records what each SharedWorker port receives, without changing it. */
function tapPorts(): void {
	const Native = window.SharedWorker;
	if (!Native) return;
	window.SharedWorker = class extends Native {
		constructor(url: string | URL, options?: string | WorkerOptions) {
			super(url, options);
			const log = (window.portLog ??= []);
			this.port.addEventListener('message', (event) => log.push(event.data));
		}
	};
}

/** What the pages logged (the last 60 lines), to explain a failure. */
const { watch, scenario } = pageLogs(60);

function launch(): Promise<{ context: BrowserContext; dir: string }> {
	const dir = mkdtempSync(join(tmpdir(), 'shared-worker-profile-'));
	return chromium.launchPersistentContext(dir, CHROMIUM).then((context) => {
		context.setDefaultTimeout(STEP_MS);
		return { context, dir };
	});
}

/** The SharedWorkers Chromium is running (by CDP), e.g. to check there is exactly one. */
async function sharedWorkers(context: BrowserContext): Promise<string[]> {
	const cdp = await context.browser()!.newBrowserCDPSession();
	try {
		const { targetInfos } = await cdp.send('Target.getTargets');
		return targetInfos.filter((t) => t.type === 'shared_worker').map((t) => t.url);
	} finally {
		await cdp.detach();
	}
}

/** Kills a page's renderer: no `pagehide`, no goodbye, its port just stops answering. */
async function crash(context: BrowserContext, page: Page): Promise<void> {
	const crashed = page.waitForEvent('crash');
	const cdp = await context.newCDPSession(page);
	cdp.send('Page.crash').catch(() => {}); // never answers: the renderer is gone
	await crashed;
}

describe('tabs of one browser, one socket per room', () => {
	let server: RoomWorker | undefined;
	let context: BrowserContext | undefined;
	let profile = '';
	let rooms = 0;
	const freshRoom = () => `tabs-${++rooms}-${crypto.randomUUID().slice(0, 8)}`;

	beforeAll(async () => {
		buildPage();
		server = await startPage();
		({ context, dir: profile } = await launch());
		await context.addInitScript(tapPorts);
	}, 300_000);

	afterAll(async () => {
		await context?.close();
		await server?.dispose();
		if (profile) rmSync(profile, { recursive: true, force: true });
	}, 30_000);

	/**
	 * A browser of its own, for the crash cases: Chromium runs a SharedWorker in the process of the
	 * page that started it, so which page hosts the worker must be known — the first one opened here.
	 */
	async function freshBrowser(): Promise<BrowserContext> {
		const fresh = await launch();
		await fresh.context.addInitScript(tapPorts);
		cleanups.push(async () => {
			await fresh.context.close();
			rmSync(fresh.dir, { recursive: true, force: true });
		});
		return fresh.context;
	}
	const cleanups: Array<() => Promise<void>> = [];
	afterAll(async () => {
		for (const done of cleanups) await done();
	}, 30_000);

	let tabs = 0;
	/** A tab on the test page in `room`, connected. */
	async function openTab(room: string, options: { noSharedWorker?: boolean; in?: BrowserContext } = {}): Promise<Page> {
		const page = await (options.in ?? context!).newPage();
		watch(page, `tab${++tabs}`);
		if (options.noSharedWorker) await page.addInitScript(() => delete (window as unknown as Record<string, unknown>).SharedWorker);
		await page.goto(`${server!.origin}/?room=${encodeURIComponent(room)}&user=ann`);
		await page.waitForFunction(() => window.app?.status() === 'connected');
		return page;
	}

	const texts = (page: Page) => page.evaluate(() => window.app.texts());
	const portLog = (page: Page) => page.evaluate(() => window.portLog ?? []);
	/** An observer outside the browser: a direct socket into `room` as bob. */
	const observe = (room: string) => Probe.join(server!, room, { user_id: 'bob' });

	/**
	 * A fresh room watched by bob, and two tabs of one fresh browser in it: `host` opens first, so it
	 * starts the SharedWorker, and Chromium runs the worker in that tab's process.
	 */
	async function twoTabsOfOneBrowser() {
		const room = freshRoom();
		const bob = await observe(room);
		const browser = await freshBrowser();
		const host = await openTab(room, { in: browser });
		const second = await openTab(room, { in: browser });
		const closeAll = async () => {
			await host.close();
			await second.close();
			await bob.close();
		};
		return { room, bob, browser, host, second, closeAll };
	}
	const annSessions = async (room: string) =>
		(await server!.rpc<Array<{ ws_session_id: string; meta: TestMeta }>>(room, 'getSessions')).filter((s) => s.meta.user_id === 'ann');

	scenario('two tabs: one connection; each broadcast reaches each tab once; a reply only the caller', async () => {
		const room = freshRoom();
		const a = await openTab(room);
		const b = await openTab(room);

		expect(await annSessions(room)).toHaveLength(1);
		expect(await sharedWorkers(context!)).toHaveLength(1);
		// Both tabs see the one session, and it is the same one.
		const inA = await a.evaluate(() => window.app.sessions());
		expect(inA).toHaveLength(1);
		expect(await b.evaluate(() => window.app.sessions())).toEqual(inA);

		await a.evaluate(() => window.app.post('one from a'));
		await b.evaluate(() => window.app.post('one from b'));
		await a.evaluate(() => window.app.post('last'));
		for (const page of [a, b]) await page.waitForFunction(() => window.app.texts().includes('last'));
		expect(await texts(a)).toEqual(['one from a', 'one from b', 'last']);
		expect(await texts(b)).toEqual(['one from a', 'one from b', 'last']);
		for (const page of [a, b]) {
			const events = (await portLog(page)).filter((m) => m.type === 'event' && m.name === 'chat:message');
			expect(events).toHaveLength(3);
		}

		// Replies: both tabs call at once; each gets its own answer, and no tab's port ever carries
		// more replies than the calls that tab made.
		const [mine, theirs] = await Promise.all([a.evaluate(() => window.app.echo('for a')), b.evaluate(() => window.app.echo('for b'))]);
		expect([mine, theirs]).toEqual(['for a', 'for b']);
		for (const page of [a, b]) {
			const replies = (await portLog(page)).filter((m) => m.type === 'replied').length;
			expect(replies).toBe(await page.evaluate(() => window.app.calls));
		}
		await a.close();
		await b.close();
	});

	scenario('a tab opened later shows presence at once, from the worker, without a new session', async () => {
		const room = freshRoom();
		const bob = await observe(room);
		const a = await openTab(room);
		await bob.next('session:connected');

		const later = await openTab(room);
		// When `ws:connected` fired, both sessions (bob and the shared one) were already known.
		expect(await later.evaluate(() => window.app.sessionsAtConnect)).toEqual([2]);
		// (No `entity:synced`: the page does not follow entity changes.)
		expect(await later.evaluate(() => window.app.seen.map((e) => e.event))).toEqual(['session:list', 'ws:connected']);
		// The room saw no new connection for it.
		await a.evaluate(() => window.app.post('marker'));
		await bob.next('chat:message');
		expect(bob.names().filter((n) => n === 'session:connected')).toHaveLength(1);
		expect(await annSessions(room)).toHaveLength(1);
		await a.close();
		await later.close();
		await bob.close();
	});

	scenario('sync unused costs nothing; a tab that follows later gets every change from then on, across a drop', async () => {
		const room = freshRoom();
		const a = await openTab(room);
		const b = await openTab(room);
		const entityEvents = (page: Page) => page.evaluate(() => window.app.seen.map((e) => e.event).filter((name) => name.startsWith('entity:')));
		expect(await b.evaluate(() => window.app.echo('after the joins'))).toBe('after the joins');
		// Neither tab follows: no catch-up asked for, no verdict, no change-log table.
		expect(await entityEvents(a)).toEqual([]);
		expect(await entityEvents(b)).toEqual([]);
		expect(await server!.rpc<string[]>(room, 'tables')).not.toContain('_ws_changes');

		const write = (id: number) => server!.rpc(room, 'entityChanged', 'created', 'todo', id, { id });
		await write(1);
		await b.waitForFunction(() => window.app.seen.some((e) => e.event === 'entity:created'));
		await b.evaluate(() => window.app.follow());
		await b.waitForFunction(() => window.app.live() && window.app.seen.some((e) => e.event === 'entity:synced'));
		await write(2);
		await b.waitForFunction(() => window.app.changes().length === 1);
		// The room drops the worker's socket; what happens meanwhile is replayed on the next one.
		await server!.rpc(room, 'closeAll', 1012, 'restart');
		await write(3);
		await write(4);
		await b.waitForFunction(() => window.app.changes().length === 3 && window.app.live());
		expect(await b.evaluate(() => window.app.changes().map((c) => c.id))).toEqual([2, 3, 4]);
		expect(await entityEvents(b)).not.toContain('entity:resync');
		// The tab that does not follow heard every change, and never a verdict.
		await a.waitForFunction(() => window.app.seen.filter((e) => e.event === 'entity:created').length === 4);
		expect(await entityEvents(a)).toEqual(['entity:created', 'entity:created', 'entity:created', 'entity:created']);
		await a.close();
		await b.close();
	});

	scenario(`closing one tab keeps the socket; closing the last closes it, announced within ${RELEASE_BOUND_MS} ms`, async () => {
		const room = freshRoom();
		const bob = await observe(room);
		const a = await openTab(room);
		const b = await openTab(room);
		await bob.next('session:connected');

		await a.close();
		expect(await b.evaluate(() => window.app.echo('still here'))).toBe('still here');
		expect(await annSessions(room)).toHaveLength(1);
		expect(bob.names()).not.toContain('session:disconnected');

		const closed = Date.now();
		await b.close(); // pagehide: the tab says goodbye
		expect(await bob.next('session:disconnected', RELEASE_BOUND_MS)).toMatchObject({ meta: { user_id: 'ann' } });
		// Sooner than the heartbeat could have released it: it was the goodbye.
		expect(Date.now() - closed).toBeLessThan(HEARTBEAT_FLOOR_MS);
		expect(await annSessions(room)).toHaveLength(0);
		await bob.close();
	});

	scenario('a tab killed without pagehide is released by the heartbeat', async () => {
		// The worker's tab stays alive (out of the room), so the crash below takes only the second tab.
		const { room, bob, browser, host, second: doomed, closeAll } = await twoTabsOfOneBrowser();
		await host.evaluate(() => window.app.disconnect());
		expect(await annSessions(room)).toHaveLength(1);

		await crash(browser, doomed);
		const crashed = Date.now();
		await bob.next('session:disconnected', RELEASE_BOUND_MS + 5_000);
		const releasedAfter = Date.now() - crashed;
		// Not sooner than the missed heartbeats allow (so it was the heartbeat), not later than the bound.
		expect(releasedAfter).toBeGreaterThan(HEARTBEAT_FLOOR_MS);
		expect(releasedAfter).toBeLessThanOrEqual(RELEASE_BOUND_MS + 500);
		// The worker itself lived on (it was the heartbeat, not the worker's end, that closed the socket).
		expect(await sharedWorkers(browser)).toHaveLength(1);
		await closeAll();
	});

	scenario('the tab hosting the worker crashes: the other tabs start a new worker and carry on', async () => {
		const { room, bob, browser, host, second: other, closeAll } = await twoTabsOfOneBrowser();
		await bob.next('session:connected');

		await crash(browser, host);
		// The worker died with it, and its socket with it; the other tab notices the silence.
		await bob.next('session:disconnected', STEP_MS);
		await bob.next('session:connected', STEP_MS);
		await other.waitForFunction(() => window.app.seen.filter((e) => e.event === 'ws:connected').length === 2);
		await other.evaluate(() => window.app.post('after the crash'));
		await other.waitForFunction(() => window.app.texts().includes('after the crash'));
		expect(await texts(other)).toEqual(['after the crash']);
		expect(await annSessions(room)).toHaveLength(1);
		await closeAll();
	});

	scenario("the browser going offline reaches the worker's socket: every tab leaves 'connected' at once and comes back online", async () => {
		const room = freshRoom();
		const bob = await observe(room);
		const a = await openTab(room);
		const b = await openTab(room);
		await bob.next('session:connected');

		// devtools' Offline applies to the pages, not to the SharedWorker: only the tabs' `offline`
		// events can tell the worker, which then closes the room socket instead of keeping it up.
		await context!.setOffline(true);
		for (const page of [a, b]) await page.waitForFunction(() => window.app.status() === 'reconnecting', undefined, { timeout: OFFLINE_NOTICED_MS });
		expect(await bob.next('session:disconnected', OFFLINE_NOTICED_MS)).toMatchObject({ meta: { user_id: 'ann' } });
		// And it stays down while offline, although the worker itself could still reach the room.
		expect(await a.evaluate(() => window.app.status())).toBe('reconnecting');

		await context!.setOffline(false);
		for (const page of [a, b]) await page.waitForFunction(() => window.app.status() === 'connected');
		await bob.next('session:connected');
		expect(await annSessions(room)).toHaveLength(1);
		expect(await a.evaluate(() => window.app.echo('back'))).toBe('back');
		await a.close();
		await b.close();
		await bob.close();
	});

	// The README's client pattern, as a new user writes it (shared-page/Readme.svelte): an `$effect`
	// that calls `ws.connect(data.org_id)` and destroys the client on cleanup. Before `connect()`
	// stopped subscribing the effect to the client's state, the first status change re-ran the
	// effect, which destroyed the client and left the page "disconnected".
	scenario('the README component connects and stays connected', async () => {
		const room = freshRoom();
		const page = await context!.newPage();
		watch(page, 'readme');
		const errors: string[] = [];
		page.on('pageerror', (error) => errors.push(error.message));
		await page.goto(`${server!.origin}/readme.html?room=${encodeURIComponent(room)}`);
		await page.getByText('connected · 1 online', { exact: true }).waitFor();

		// Still the same live client: someone else joining shows up in the component.
		const bob = await observe(room);
		await page.getByText('connected · 2 online', { exact: true }).waitFor();
		await bob.close();

		const shown = await page.evaluate(() => window.readme.shown);
		// Once connected, it never left: no destroy, no "disconnected".
		const first = shown.indexOf('connected · 1 online');
		expect(first).toBeGreaterThanOrEqual(0);
		expect(shown.slice(first).every((text) => text.startsWith('connected · '))).toBe(true);
		expect(shown.slice(0, first).every((text) => text.startsWith('disconnected') || text.startsWith('connecting'))).toBe(true);
		expect(errors).toEqual([]);
		await page.close();
	});

	scenario("a call leaves at once even while the tab's timers are held back, as a hidden tab's are", async () => {
		// Browsers run a hidden tab's timers at most once a second (once a minute after five minutes
		// hidden): a batch that waited for a timer to leave would wait that long. Here every timer of
		// the tab is held back 3 s; a call must still be answered at once, with and without the worker.
		const room = freshRoom();
		for (const options of [{}, { noSharedWorker: true }]) {
			const page = await openTab(room, options);
			const took = await page.evaluate(async () => {
				const setTimeoutBefore = window.setTimeout;
				window.setTimeout = ((handler: TimerHandler, delay?: number, ...args: unknown[]) =>
					setTimeoutBefore(handler, Math.max(delay ?? 0, 3000), ...args)) as typeof window.setTimeout;
				try {
					const start = performance.now();
					await window.app.echo('now');
					return performance.now() - start;
				} finally {
					window.setTimeout = setTimeoutBefore;
				}
			});
			expect(took).toBeLessThan(1000);
			await page.close();
		}
	});

	scenario('without SharedWorker: each tab its own socket, and still every event exactly once', async () => {
		const room = freshRoom();
		const a = await openTab(room, { noSharedWorker: true });
		const b = await openTab(room, { noSharedWorker: true });
		expect(await a.evaluate(() => typeof window.SharedWorker)).toBe('undefined');
		expect(await annSessions(room)).toHaveLength(2);

		await a.evaluate(() => window.app.post('one'));
		await b.evaluate(() => window.app.post('two'));
		for (const page of [a, b]) await page.waitForFunction(() => window.app.texts().length === 2);
		expect(await texts(a)).toEqual(['one', 'two']);
		expect(await texts(b)).toEqual(['one', 'two']);
		expect(await a.evaluate(() => window.app.sessions().length)).toBe(2);
		await a.close();
		await b.close();
	});
});

describe("the demo's production build", () => {
	let demo: DemoServer | undefined;
	let context: BrowserContext | undefined;
	let profile = '';

	beforeAll(async () => {
		buildDemo();
		demo = await startDemo();
		({ context, dir: profile } = await launch());
	}, 300_000);

	afterAll(async () => {
		await context?.close();
		await demo?.stop();
		if (profile) rmSync(profile, { recursive: true, force: true });
	}, 30_000);

	scenario(
		'emits the worker asset; two tabs of one person are one session in the room',
		async () => {
			const workers = join(root, 'demo', '.svelte-kit', 'cloudflare', '_app', 'immutable', 'workers');
			expect(existsSync(workers) ? readdirSync(workers).filter((f) => f.endsWith('.js')) : []).toHaveLength(1);

			const org = `team-${crypto.randomUUID().slice(0, 8)}`;
			const first = await context!.newPage();
			watch(first, 'demo tab 1');
			await signInPage(first, demo!.origin, 'Ada', org);

			const second = await context!.newPage();
			watch(second, 'demo tab 2');
			await second.goto(`${demo!.origin}/chat`);
			await second.locator('[data-testid="status"][data-status="connected"]').waitFor();

			const urls = await sharedWorkers(context!);
			expect(urls).toHaveLength(1);
			expect(urls[0]).toMatch(/\/_app\/immutable\/workers\/worker-[\w-]+\.js$/);
			// One person, one session: the demo marks a person with several sessions "· N tabs".
			for (const page of [first, second]) {
				const present = page.getByTestId('presence').getByTestId('present');
				await present.filter({ hasText: 'Ada' }).waitFor();
				expect(await present.count()).toBe(1);
				expect(await present.first().textContent()).not.toContain('tabs');
			}

			// A message from one tab appears in both.
			const text = `hello from tab 1 ${crypto.randomUUID().slice(0, 6)}`;
			await first.getByTestId('draft').fill(text);
			await first.getByTestId('send').click();
			for (const page of [first, second]) await page.getByTestId('message').filter({ hasText: text }).waitFor();
			await first.close();
			await second.close();
		},
		120_000,
	);
});
