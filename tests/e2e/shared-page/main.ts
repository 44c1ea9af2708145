/**
 * The browser tests' page: one `WebsocketClient` with its defaults (shared through the package's
 * SharedWorker when the browser has one), joined to `?room=` as `?user=`, with everything it sees
 * recorded on `window.app` for the test to read.
 *
 * Built by Vite (vite.config.ts) from the published build in dist/, as an app would build it.
 */
import { WebsocketClient } from '../../../client/index.js';
import type { TestApi, TestEvents, TestMeta } from '../../worker/index.js';

const params = new URLSearchParams(location.search);
const room = params.get('room') ?? 'lobby';
const user = params.get('user') ?? 'ann';

const ws = new WebsocketClient<TestMeta, TestEvents, TestApi>({
	url: (r) => `${location.origin.replace(/^http/, 'ws')}/connect/${encodeURIComponent(r)}?meta=${encodeURIComponent(JSON.stringify({ user_id: user }))}`,
});

/** Every event, in order, as plain data. */
const seen: Array<{ event: string; data: unknown }> = [];
/** The sessions the client already had when `ws:connected` fired. */
const sessionsAtConnect: number[] = [];
let calls = 0;
/** Entity changes the page's feed delivered, once `app.follow()` made it follow them. */
const changes: Array<{ type: string; id: unknown }> = [];
let hooks: ReturnType<typeof ws.databaseHooks> | undefined;
ws.on('*', (e) => seen.push({ event: e.event, data: JSON.parse(JSON.stringify(e.data ?? null)) }));
ws.on('ws:connected', () => sessionsAtConnect.push(ws.sessions.length));

const app = {
	seen,
	sessionsAtConnect,
	get calls() {
		return calls;
	},
	status: () => ws.status,
	sessions: () => ws.sessions.map((s) => `${s.meta.user_id}:${s.ws_session_id}`),
	texts: () => seen.filter((e) => e.event === 'chat:message').map((e) => (e.data as { text: string }).text),
	// Each awaits its RpcPromise (a callable proxy) so the test receives plain values.
	post: async (text: string) => (calls++, await ws.rpc.post(text)),
	echo: async <T>(value: T) => (calls++, (await ws.rpc.echo(value)) as T),
	// A pipelined call: the one kind here that needs capnweb's session (the lazily loaded chunk).
	count: async (start: number, by: number) => (calls++, await ws.rpc.counter(start).increment(by).value()),
	/** A rejection as plain data the test can read. */
	failure: (error: unknown) => ({ name: (error as Error).name, code: (error as { code?: string }).code, message: (error as Error).message }),
	disconnect: () => ws.disconnect(),
	/** Starts following entity changes, as a `DatabaseClient` given `ws.databaseHooks()` would. */
	follow: () => {
		hooks = ws.databaseHooks();
		hooks.onSubscribe((change) => changes.push({ type: change.type, id: change.id }));
	},
	changes: () => changes,
	live: () => hooks?.isLive() ?? false,
};
(window as unknown as { app: typeof app }).app = app;
ws.connect(room).catch((error: unknown) => console.error('connect failed', error));
