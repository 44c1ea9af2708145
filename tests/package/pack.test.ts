/**
 * The package as a user gets it: `npm run build`, `npm pack`, then a scratch SvelteKit app in a temp
 * dir that installs the tarball for real (`npm install` of `file:<tarball>`, resolved through its
 * `exports`), next to the toolchain versions this repository uses (from the npm cache).
 *
 * - The tarball holds `dist/`, `package.json` and README/LICENSE only; every `exports` target and
 *   every relative import inside it is shipped; capnweb is the one dependency, svelte and kit peers.
 * - `vite build` (adapter-cloudflare) of an app whose page uses `WebsocketClient`, whose
 *   `hooks.server.ts` uses `createWebsocketHandle`, and whose room extends `WebsocketServer`/`RoomApi`,
 *   succeeds; the client code is in the browser bundle, its SharedWorker became a worker asset the
 *   page points at, and the runes modules were compiled (no `$state(` left anywhere). wrangler then
 *   bundles the Worker with the room exported (dry run).
 * - `vite dev` renders the page on the server and serves the SharedWorker's script from the package.
 * - `tsc --noEmit` over a file importing all four entry points passes, and with `skipLibCheck` off
 *   no error comes from the package's `.d.ts` (errors in other libraries, e.g. DOM vs
 *   workers-types, are theirs).
 *
 * `PACK_TEST_KEEP=1` keeps the temp dir and prints where it is.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { readyLine, stopProcessGroup } from '../support/process.js';

const root = join(import.meta.dir, '..', '..');
const rootPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
const PACKAGE = rootPackage.name;

interface PackageJson {
	name: string;
	version: string;
	exports: Record<string, string | Record<string, string>>;
	dependencies?: Record<string, string>;
	devDependencies?: Record<string, string>;
	peerDependencies?: Record<string, string>;
}

/** The toolchain the scratch app installs, at the versions this repository is built and tested with. */
const TOOLCHAIN = [
	'svelte',
	'@sveltejs/kit',
	'@sveltejs/vite-plugin-svelte',
	'@sveltejs/adapter-cloudflare',
	'vite',
	'typescript',
	'@cloudflare/workers-types',
	'wrangler',
];

let temp: string;
let app: string;
/** Paths in the tarball, as `npm pack` listed them. */
let packed: string[];
/** The installed copy: `<app>/node_modules/@delightstack/websocket`. */
let installed: string;

/** Runs a command with a bounded time; throws with its output unless it exits 0. */
function run(command: string, args: string[], cwd: string, timeoutMs: number, env: Record<string, string> = {}): string {
	const result = spawnSync(command, args, {
		cwd,
		encoding: 'utf8',
		timeout: timeoutMs,
		killSignal: 'SIGKILL',
		maxBuffer: 64 * 1024 * 1024,
		env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', WRANGLER_SEND_METRICS: 'false', CI: '1', ...env },
	});
	if (result.status !== 0) {
		const why = result.error ? String(result.error) : `exit ${result.status ?? result.signal}`;
		throw new Error(`${command} ${args.join(' ')} (in ${cwd}) failed: ${why}\n${result.stdout}\n${result.stderr}`);
	}
	return result.stdout;
}

function write(path: string, text: string): void {
	mkdirSync(dirname(path), { recursive: true });
	writeFileSync(path, text);
}

function walk(dir: string): string[] {
	return readdirSync(dir).flatMap((name) => {
		const path = join(dir, name);
		return statSync(path).isDirectory() ? walk(path) : [path];
	});
}

/** Every JavaScript file under `dir` (recursively). */
function scripts(dir: string): string[] {
	return walk(dir).filter((file) => /\.(js|mjs)$/.test(file));
}

/**
 * A rune left uncompiled, as runes modules declare state: `#status = $state(`, `= $derived(`,
 * `= $state.raw(`… (Svelte's own error messages mention "`$state(...)`", never after `=`.)
 */
const RAW_RUNE = /=\s*\$(state|derived|props)(\.[a-z]+)?\(/;

/** Whether a built file still has a rune in its code (comment lines, e.g. kit's JSDoc examples, aside). */
function hasRawRune(text: string): boolean {
	return text.split('\n').some((line) => !/^\s*(\*|\/\/)/.test(line) && RAW_RUNE.test(line));
}

beforeAll(() => {
	temp = mkdtempSync(join(tmpdir(), 'pack-test-'));
	app = join(temp, 'app');
	if (process.env.PACK_TEST_KEEP) console.log(`pack test: ${temp}`);

	run('npm', ['run', 'build'], root, 120_000);
	// The build just ran; `--ignore-scripts` keeps `prepack` from running it a second time.
	const report = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', temp], root, 60_000)) as {
		filename: string;
		files: { path: string }[];
	}[];
	const tarball = join(temp, report[0]!.filename);
	packed = report[0]!.files.map((file) => file.path).sort();

	writeScratchApp(tarball);
	// The tarball is installed for real (extracted into node_modules, its dependencies resolved);
	// the toolchain comes from the npm cache this repository's own install filled.
	run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], app, 180_000);
	installed = join(app, 'node_modules', ...PACKAGE.split('/'));
	run(join(app, 'node_modules', '.bin', 'svelte-kit'), ['sync'], app, 60_000);
}, 420_000);

afterAll(() => {
	if (temp && !process.env.PACK_TEST_KEEP) rmSync(temp, { recursive: true, force: true });
});

describe('npm pack', () => {
	test('ships dist/, package.json, README and LICENSE only', () => {
		const unexpected = packed.filter((path) => !/^(dist\/|package\.json$|README(\.md)?$|LICEN[CS]E(\.md|\.txt)?$)/i.test(path));
		expect(unexpected).toEqual([]);
		expect(packed).toContain('README.md');
		// No sources, no tests: TypeScript only as declarations.
		expect(packed.filter((path) => /\.test\.|(?<!\.d)\.ts$/.test(path))).toEqual([]);
		// What npm installed is what was packed.
		expect(walk(installed).map((file) => posix.relative(installed, file.split('\\').join('/'))).sort()).toEqual(packed);
	});

	test('every exports target is shipped, with types first', () => {
		const missing: string[] = [];
		for (const [entry, target] of Object.entries(rootPackage.exports)) {
			const conditions = typeof target === 'string' ? { default: target } : target;
			if (entry !== './package.json') expect(Object.keys(conditions)[0]).toBe('types');
			for (const path of Object.values(conditions)) {
				if (!packed.includes(posix.normalize(path))) missing.push(`${entry} → ${path}`);
			}
		}
		expect(missing).toEqual([]);
		for (const entry of ['./worker', './server', './client', './rpc']) expect(rootPackage.exports[entry]).toBeDefined();
	});

	test('every relative import inside the package is shipped; runes modules ship as .svelte.js', () => {
		const unresolved: string[] = [];
		// `from './x.js'`, `import('./x.js')`, `import './x.js'`, and `new URL('./x.js', import.meta.url)` (the SharedWorker's script).
		const reference = /(?:\bfrom|\bimport|new URL)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;
		for (const path of packed.filter((p) => /\.(js|d\.ts)$/.test(p))) {
			// Comments aside: they quote such references as examples.
			const text = readFileSync(join(installed, path), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
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
		for (const dependency of ['capnweb']) expect(existsSync(join(app, 'node_modules', dependency, 'package.json'))).toBe(true);
	});
});

describe('a fresh SvelteKit app using the packed package', () => {
	test('vite build (adapter-cloudflare): client code bundled, runes compiled; the Worker bundles with the room', () => {
		run(join(app, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], app, 180_000);

		const output = join(app, '.svelte-kit', 'output');
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

		// The room exported from the same Worker (as the demo does), bundled by wrangler: the `worker`
		// entry resolves, `cloudflare:workers` stays the runtime's.
		const worker = join(app, '.svelte-kit', 'cloudflare', '_worker.js');
		expect(existsSync(worker)).toBe(true);
		appendFileSync(worker, `\nexport { ScratchRoom } from '../../src/lib/server/room.ts';\n`);
		const bundled = join(temp, 'worker-bundle');
		run(join(app, 'node_modules', '.bin', 'wrangler'), ['deploy', '--dry-run', '--outdir', bundled], app, 120_000);
		const bundle = readFileSync(join(bundled, '_worker.js'), 'utf8');
		// (Booleans, not toContain: a failure would print the whole bundle.)
		expect({
			roomExported: /export\s*\{[^}]*\bScratchRoom\b/.test(bundle),
			roomIsAWebsocketServer: /\bScratchRoom = class extends WebsocketServer\d*\b/.test(bundle),
			runtimeImport: /from\s*["']cloudflare:workers["']/.test(bundle),
			rawRunes: hasRawRune(bundle),
		}).toEqual({ roomExported: true, roomIsAWebsocketServer: true, runtimeImport: true, rawRunes: false });
	}, 300_000);

	test('vite dev: the page renders on the server, and the SharedWorker script is served from the package', async () => {
		const vite = spawn(join(app, 'node_modules', '.bin', 'vite'), ['dev', '--host', '127.0.0.1', '--port', '0', '--clearScreen', 'false'], {
			cwd: app,
			env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1' },
			stdio: ['ignore', 'pipe', 'pipe'],
			detached: true,
		});
		try {
			const origin = await readyLine(vite, 'vite dev', /Local:\s+(http:\/\/127\.0\.0\.1:\d+)/, 60_000);
			// Server-side rendering ran the runes class: the status comes from `WebsocketClient`.
			const page = await fetch(`${origin}/`, { signal: AbortSignal.timeout(30_000) });
			expect(page.status).toBe(200);
			expect(await page.text()).toContain('data-status="disconnected"');

			// In the browser, the package is served as its own modules (a Svelte library is not
			// pre-bundled), so `new URL('./shared/worker.js', import.meta.url)` finds the worker's file.
			const loader = await fetch(`${origin}/node_modules/${PACKAGE}/dist/client/shared-worker.js`, { signal: AbortSignal.timeout(30_000) });
			expect(loader.status).toBe(200);
			const workerUrl = /new SharedWorker\(\s*new URL\((?:\/\*[^*]*\*\/)?\s*["']([^"']+)["']/.exec(await loader.text())?.[1];
			expect(workerUrl).toBeDefined();
			const worker = await fetch(new URL(workerUrl!, `${origin}/node_modules/${PACKAGE}/dist/client/shared-worker.js`), { signal: AbortSignal.timeout(30_000) });
			expect(worker.status).toBe(200);
			expect(await worker.text()).toContain('onconnect');
		} finally {
			await stopProcessGroup(vite);
		}
	}, 120_000);

	test('tsc --noEmit: the shipped .d.ts of all four entry points resolve and type the app', () => {
		const tsc = join(app, 'node_modules', '.bin', 'tsc');
		run(tsc, ['--noEmit', '-p', 'tsconfig.json', '--pretty', 'false'], app, 120_000);

		// Again with declaration files checked too: nothing in the package's own .d.ts may fail
		// (other libraries' conflicts, e.g. DOM vs workers-types, are not ours to judge).
		const result = spawnSync(tsc, ['--noEmit', '-p', 'tsconfig.json', '--pretty', 'false', '--skipLibCheck', 'false'], {
			cwd: app,
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

/** The scratch app: what a user writes to try the package in a new SvelteKit project. */
function writeScratchApp(tarball: string): void {
	const devDependencies: Record<string, string> = {};
	for (const name of TOOLCHAIN) {
		const version = rootPackage.devDependencies?.[name];
		if (!version) throw new Error(`package.json devDependencies has no ${name}`);
		devDependencies[name] = version;
	}
	write(
		join(app, 'package.json'),
		JSON.stringify(
			{ name: 'scratch-app', private: true, type: 'module', dependencies: { [PACKAGE]: `file:${tarball}` }, devDependencies },
			null,
			'\t',
		),
	);
	write(
		join(app, 'svelte.config.js'),
		`import adapter from '@sveltejs/adapter-cloudflare';\n\nexport default { kit: { adapter: adapter() } };\n`,
	);
	write(
		join(app, 'vite.config.ts'),
		`import { sveltekit } from '@sveltejs/kit/vite';\nimport { defineConfig } from 'vite';\n\nexport default defineConfig({ plugins: [sveltekit()] });\n`,
	);
	write(
		join(app, 'tsconfig.json'),
		JSON.stringify(
			{
				extends: './.svelte-kit/tsconfig.json',
				compilerOptions: { strict: true, skipLibCheck: true, types: ['@cloudflare/workers-types'] },
			},
			null,
			'\t',
		),
	);
	write(
		join(app, 'wrangler.toml'),
		`name = "scratch-app"
main = ".svelte-kit/cloudflare/_worker.js"
compatibility_date = "2026-04-20"
compatibility_flags = ["nodejs_als"]

[assets]
binding = "ASSETS"
directory = ".svelte-kit/cloudflare"

[[durable_objects.bindings]]
name = "WS"
class_name = "ScratchRoom"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["ScratchRoom"]
`,
	);
	write(join(app, 'src', 'app.html'), `<!doctype html>\n<html>\n\t<head>%sveltekit.head%</head>\n\t<body><div>%sveltekit.body%</div></body>\n</html>\n`);
	write(
		join(app, 'src', 'app.d.ts'),
		`import type { ScratchRoom } from '$lib/server/room';

declare global {
	namespace App {
		interface Platform {
			env: { WS: DurableObjectNamespace<ScratchRoom> };
		}
	}
}

export {};
`,
	);
	write(
		join(app, 'src', 'hooks.server.ts'),
		`import { createWebsocketHandle } from '${PACKAGE}/server';

export const handle = createWebsocketHandle({ getServer: (event) => event.platform?.env.WS });
`,
	);
	write(
		join(app, 'src', 'lib', 'server', 'room.ts'),
		`import { RoomApi, WebsocketServer } from '${PACKAGE}/worker';

export type ScratchEvents = { 'note:added': { text: string } };

export class ScratchApi extends RoomApi<ScratchRoom> {
	add(text: string): number {
		this.room.broadcast('note:added', { text });
		return text.length;
	}
}

export class ScratchRoom extends WebsocketServer<{ user_id?: string }, ScratchEvents> {
	static override api = ScratchApi;
}
`,
	);
	write(
		join(app, 'src', 'routes', '+page.svelte'),
		`<script lang="ts">
	import { WebsocketClient } from '${PACKAGE}/client';
	import type { ScratchApi, ScratchEvents } from '$lib/server/room';

	const ws = new WebsocketClient<{ user_id?: string }, ScratchEvents, ScratchApi>();
	let notes = $state<string[]>([]);

	$effect(() => {
		const off = ws.on('note:added', (note) => (notes = [...notes, note.text]));
		ws.connect('scratch');
		return () => {
			off();
			ws.destroy();
		};
	});
</script>

<p data-status={ws.status}>{ws.status}: {ws.users.length} here, {notes.length} notes</p>
<button onclick={() => ws.rpc.add('hello')}>add</button>
`,
	);
	// Type-level use of all four entry points; a declaration that failed to resolve would turn
	// these types into \`any\`, which the checks below refuse.
	write(
		join(app, 'src', 'lib', 'entry-points.ts'),
		`import { WebsocketClient, type DatabaseClientHooks, type DatabaseEntityChange } from '${PACKAGE}/client';
import { createWebsocketHandle, type WebsocketHandleOptions } from '${PACKAGE}/server';
import { RoomApi, RoomError, WebsocketServer } from '${PACKAGE}/worker';
import type { AuthSessionMeta, EventMap, RoomRpc } from '${PACKAGE}/rpc';
import type { Handle } from '@sveltejs/kit';

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
	NotAny<IsAny<WebsocketServer>>,
	NotAny<IsAny<RoomApi<NoteRoom>>>,
	NotAny<IsAny<RoomRpc<NoteApi>>>,
	NotAny<IsAny<EventMap>>,
	NotAny<IsAny<RoomError>>,
	NotAny<IsAny<AuthSessionMeta>>,
	NotAny<IsAny<DatabaseEntityChange>>,
];
`,
	);
}
