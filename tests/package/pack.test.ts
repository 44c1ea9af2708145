/**
 * The package as a user gets it (tests/package/app.ts): `npm run build`, `npm pack`, and the app of
 * the README's "Getting started" installing the tarball for real.
 *
 * - The tarball holds `dist/`, `package.json` and README/LICENSE only; every `exports` target and
 *   every relative import inside it is shipped; capnweb is the one dependency, svelte and kit peers.
 * - svelte-check over the app reports 0 errors, before any build and after one: the README's files
 *   type-check against the shipped `.d.ts` (platform.env.WS typed from app.d.ts, not from a build).
 * - `vite build` (adapter-cloudflare wrapped by `withRooms`): the client code is in the browser
 *   bundle, its SharedWorker became a worker asset the page points at, the runes modules were
 *   compiled (no `$state(` left anywhere), and the Worker the adapter wrote exports the room, which
 *   wrangler bundles (dry run).
 * - `tsc --noEmit` over a file importing every entry point passes, and with `skipLibCheck` off no
 *   error comes from the package's `.d.ts` (errors in other libraries, e.g. DOM vs workers-types,
 *   are theirs).
 */
import { beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { PACKAGE, builtApp, preparedApp, root, rootPackage, run, scripts, walk, write, type PackageJson, type PreparedApp } from './app.js';

/** `./headless` is being written in client/headless.ts; its entry is checked once the source exists. */
const HEADLESS = existsSync(join(root, 'client', 'headless.ts'));

let app: PreparedApp;
let packed: string[];
let installed: string;

/**
 * A rune left uncompiled, as runes modules declare state: `#status = $state(`, `= $derived(`,
 * `= $state.raw(`… (Svelte's own error messages mention "`$state(...)`", never after `=`.)
 */
const RAW_RUNE = /=\s*\$(state|derived|props)(\.[a-z]+)?\(/;

/** Whether a built file still has a rune in its code (comment lines, e.g. kit's JSDoc examples, aside). */
function hasRawRune(text: string): boolean {
	return text.split('\n').some((line) => !/^\s*(\*|\/\/)/.test(line) && RAW_RUNE.test(line));
}

/** svelte-check over the app: its error count, and the lines that say what they are. */
function svelteCheck(): { errors: number; lines: string[] } {
	const result = spawnSync(app.bin('svelte-check'), ['--tsconfig', './tsconfig.json', '--output', 'machine', '--threshold', 'error'], {
		cwd: app.dir,
		encoding: 'utf8',
		timeout: 180_000,
		killSignal: 'SIGKILL',
	});
	const lines = result.stdout.split('\n');
	const completed = lines.find((line) => / COMPLETED /.test(line));
	if (!completed) throw new Error(`svelte-check did not complete (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
	return { errors: Number(/(\d+) ERRORS/.exec(completed)?.[1]), lines: lines.filter((line) => / ERROR /.test(line)) };
}

beforeAll(async () => {
	app = await preparedApp();
	({ packed, installed } = app);
}, 420_000);

describe('npm pack', () => {
	test('ships dist/, package.json, README and LICENSE only', () => {
		const unexpected = packed.filter((path) => !/^(dist\/|package\.json$|README(\.md)?$|LICEN[CS]E(\.md|\.txt)?$)/i.test(path));
		expect(unexpected).toEqual([]);
		expect(packed).toContain('README.md');
		// No sources, no tests: TypeScript only as declarations.
		expect(packed.filter((path) => /\.test\.|(?<!\.d)\.ts$/.test(path))).toEqual([]);
		// What npm installed is what was packed.
		expect(
			walk(installed)
				.map((file) => posix.relative(installed, file.split('\\').join('/')))
				.sort(),
		).toEqual(packed);
	});

	test('every exports target is shipped, with types first', () => {
		const missing: string[] = [];
		for (const [entry, target] of Object.entries(rootPackage.exports)) {
			const conditions = typeof target === 'string' ? { default: target } : target;
			if (entry !== './package.json') expect(Object.keys(conditions)[0]).toBe('types');
			for (const path of Object.values(conditions)) {
				if (entry === './headless' && !HEADLESS) continue;
				if (!packed.includes(posix.normalize(path))) missing.push(`${entry} → ${path}`);
			}
		}
		expect(missing).toEqual([]);
		for (const entry of ['./worker', './server', './client', './rpc', './vite', './adapter', './headless']) expect(rootPackage.exports[entry]).toBeDefined();
	});

	test('every relative import inside the package is shipped; runes modules ship as .svelte.js', () => {
		const unresolved: string[] = [];
		// `from './x.js'`, `import('./x.js')`, `import './x.js'`, and `new URL('./x.js', import.meta.url)` (the SharedWorker's script).
		const reference = /(?:\bfrom|\bimport|new URL)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;
		for (const path of packed.filter((p) => /\.(js|d\.ts)$/.test(p))) {
			// Comments aside: they quote such references as examples.
			const text = readFileSync(join(installed, path), 'utf8')
				.replace(/\/\*[\s\S]*?\*\//g, '')
				.replace(/^\s*\/\/.*$/gm, '');
			for (const match of text.matchAll(reference)) {
				const target = posix.join(posix.dirname(path), match[1]!);
				// A `.js` specifier in a declaration file resolves to the `.d.ts` beside it.
				const candidates = path.endsWith('.d.ts') ? [target.replace(/\.js$/, '.d.ts'), target] : [target];
				if (!candidates.some((candidate) => packed.includes(candidate))) unresolved.push(`${path}: ${match[1]}`);
			}
		}
		expect(unresolved).toEqual([]);
		const runes = packed.filter((path) => path.endsWith('.svelte.js'));
		expect(runes.length).toBeGreaterThan(0);
		for (const path of runes) expect(packed).toContain(path.replace(/\.js$/, '.d.ts'));
	});

	test('dependencies: capnweb installed with it, svelte and kit left to the app', () => {
		const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as PackageJson;
		expect(Object.keys(manifest.dependencies ?? {}).sort()).toEqual(['capnweb']);
		expect(Object.keys(manifest.peerDependencies ?? {}).sort()).toEqual(['@sveltejs/kit', 'svelte']);
		for (const dependency of ['capnweb']) expect(existsSync(join(app.dir, 'node_modules', dependency, 'package.json'))).toBe(true);
	});
});

describe('the app of the README, against the packed package', () => {
	test('svelte-check: 0 errors, before any build', () => {
		expect(svelteCheck()).toEqual({ errors: 0, lines: [] });
	}, 200_000);

	test("svelte-check would catch a mistake in the README's files (an RPC method the room does not have)", () => {
		const page = join(app.dir, 'src', 'routes', '+page.svelte');
		const original = readFileSync(page, 'utf8');
		try {
			write(page, original.replace('ws.rpc.send(text)', 'ws.rpc.shout(text)'));
			const { errors, lines } = svelteCheck();
			expect(errors).toBe(1);
			expect(lines.join('\n')).toContain('shout');
		} finally {
			write(page, original);
		}
	}, 200_000);

	test('vite build (withRooms over adapter-cloudflare): client code bundled, runes compiled; the Worker exports the room', async () => {
		await builtApp();
		const output = join(app.dir, '.svelte-kit', 'output');
		const client = scripts(join(output, 'client'));
		// The page's WebsocketClient made it into the browser bundle (its default path and event names).
		const withClient = client.filter((file) => {
			const text = readFileSync(file, 'utf8');
			return text.includes('/api/websocket') && text.includes('session:list');
		});
		expect(withClient.length).toBeGreaterThan(0);
		// The SharedWorker that shares one socket per room between tabs: built into a worker asset of
		// the app (from the package's `new SharedWorker(new URL(…, import.meta.url))`), and the page's
		// bundle points at it.
		const workers = client.filter((file) => readFileSync(file, 'utf8').includes('onconnect'));
		const pointedAt = workers.filter((worker) => {
			const name = worker.split('/').pop()!;
			return client.some((file) => file !== worker && readFileSync(file, 'utf8').includes(name));
		});
		expect(pointedAt.length).toBeGreaterThan(0);
		// Runes modules were compiled by the app's Svelte, in the browser and the server build alike.
		const raw = [...client, ...scripts(join(output, 'server'))].filter((file) => hasRawRune(readFileSync(file, 'utf8')));
		expect(raw).toEqual([]);

		// withRooms appended the room's export to the Worker the adapter wrote (wrangler's `main`)…
		const worker = readFileSync(join(app.dir, '.svelte-kit', 'cloudflare', '_worker.js'), 'utf8');
		expect(worker.trimEnd().split('\n').at(-1)).toBe('export { ChatRoom } from "../../src/lib/server/room.ts";');
		// …and wrangler bundles it: the `worker` entry resolves, `cloudflare:workers` stays the runtime's.
		const bundled = join(app.temp, 'worker-bundle');
		run(app.bin('wrangler'), ['deploy', '--dry-run', '--outdir', bundled], app.dir, 120_000);
		const bundle = readFileSync(join(bundled, '_worker.js'), 'utf8');
		// (Booleans, not toContain: a failure would print the whole bundle.)
		expect({
			roomExported: /export\s*\{[^}]*\bChatRoom\b/.test(bundle),
			roomIsAWebsocketServer: /\bChatRoom = class extends WebsocketServer\d*\b/.test(bundle),
			runtimeImport: /from\s*["']cloudflare:workers["']/.test(bundle),
			rawRunes: hasRawRune(bundle),
		}).toEqual({ roomExported: true, roomIsAWebsocketServer: true, runtimeImport: true, rawRunes: false });

		// The binding types do not depend on a build having happened: still 0 errors.
		expect(svelteCheck()).toEqual({ errors: 0, lines: [] });
	}, 420_000);

	test('tsc --noEmit: the shipped .d.ts of every entry point resolve and type the app', () => {
		writeEntryPoints();
		const tsc = app.bin('tsc');
		run(tsc, ['--noEmit', '-p', 'tsconfig.json', '--pretty', 'false'], app.dir, 120_000);

		// Again with declaration files checked too: nothing in the package's own .d.ts may fail
		// (other libraries' conflicts, e.g. DOM vs workers-types, are not ours to judge).
		const result = spawnSync(tsc, ['--noEmit', '-p', 'tsconfig.json', '--pretty', 'false', '--skipLibCheck', 'false'], {
			cwd: app.dir,
			encoding: 'utf8',
			timeout: 120_000,
			killSignal: 'SIGKILL',
		});
		expect(result.signal).toBeNull();
		const ours = result.stdout
			.split('\n')
			.filter((line) => /error TS\d+/.test(line) && (line.startsWith(`node_modules/${PACKAGE}/`) || line.startsWith('src/')));
		expect(ours).toEqual([]);
	}, 240_000);
});

/**
 * Type-level use of every entry point; a declaration that failed to resolve would turn these types
 * into `any`, which the checks refuse.
 */
function writeEntryPoints(): void {
	write(
		join(app.dir, 'src', 'lib', 'entry-points.ts'),
		`import { WebsocketClient, type DatabaseClientHooks, type DatabaseEntityChange } from '${PACKAGE}/client';
import { createWebsocketHandle, handleUpgrade, refuse, type WebsocketHandleOptions } from '${PACKAGE}/server';
import { RoomApi, RoomError, WebsocketServer } from '${PACKAGE}/worker';
import type { AuthSessionMeta, EventMap, RoomRpc } from '${PACKAGE}/rpc';
import { rooms } from '${PACKAGE}/vite';
import { withRooms } from '${PACKAGE}/adapter';
${HEADLESS ? `import * as headless from '${PACKAGE}/headless';\n` : ''}import type { Handle } from '@sveltejs/kit';
import type { Plugin } from 'vite';

type IsAny<T> = 0 extends 1 & T ? true : false;
type NotAny<T extends false> = T;

type Events = { 'note:added': { text: string } };

class NoteApi extends RoomApi<NoteRoom> {
	add(text: string): number {
		this.room.broadcast('note:added', { text });
		return text.length;
	}
}

class NoteRoom extends WebsocketServer<AuthSessionMeta, Events> {
	static override api = NoteApi;
}

const options = { getServer: () => undefined } satisfies WebsocketHandleOptions;
export const handle: Handle = createWebsocketHandle(options);

export async function plain(request: Request, env: { NOTES: DurableObjectNamespace<NoteRoom> }): Promise<Response> {
	const answer = await handleUpgrade(request, env.NOTES, {
		authorize: (req, room) => (room === 'x' ? refuse(403, 'no') : { meta: { user_id: req.headers.get('x-user') ?? 'anon' } }),
	});
	return answer ?? new Response(null, { status: 404 });
}

export const plugin: Plugin = rooms();
export const adapter = withRooms({ name: 'stub', adapt: () => {} }, { NoteRoom: 'src/lib/notes.ts' });

const ws = new WebsocketClient<AuthSessionMeta, Events, NoteApi>();

export async function use(): Promise<number> {
	ws.on('note:added', (note) => note.text.toUpperCase());
	const length: number = await ws.rpc.add('hi');
	// @ts-expect-error: not a method of NoteApi
	ws.rpc.remove('hi');
	return length + ws.users.length;
}

// What a DatabaseClient takes: \`new DatabaseClient({ hooks: ws.databaseHooks() })\`.
export const hooks: Required<DatabaseClientHooks> = ws.databaseHooks();
export const stop: () => void = ws.databaseHooks().onSubscribe((change: DatabaseEntityChange) => change.entity_type);

export type Checks = [
	NotAny<IsAny<WebsocketClient>>,
	NotAny<IsAny<typeof createWebsocketHandle>>,
	NotAny<IsAny<typeof handleUpgrade>>,
	NotAny<IsAny<WebsocketServer>>,
	NotAny<IsAny<RoomApi<NoteRoom>>>,
	NotAny<IsAny<RoomRpc<NoteApi>>>,
	NotAny<IsAny<EventMap>>,
	NotAny<IsAny<RoomError>>,
	NotAny<IsAny<AuthSessionMeta>>,
	NotAny<IsAny<DatabaseEntityChange>>,
	NotAny<IsAny<typeof rooms>>,
	NotAny<IsAny<typeof withRooms>>,${HEADLESS ? '\n\tNotAny<IsAny<typeof headless.RoomClient>>,' : ''}
];
`,
	);
}
