/**
 * What the package tests share: the package as a user gets it (`npm run build`, `npm pack`), and one
 * fresh SvelteKit app that installs the tarball for real, built from the files a new user writes by
 * following the README's "Getting started" (tests/package/.fixture-app, whose files the README
 * quotes verbatim), next to the toolchain versions this repository uses (from the npm cache).
 *
 * The app is prepared once per `bun test` run, whichever test file asks first (Bun shares modules
 * between test files), and built once; the temp dir goes when the process exits.
 * `PACK_TEST_KEEP=1` keeps it and prints where it is; `PACK_TEST_SOURCE=<dir>` packs another copy of
 * the package (a clean checkout, say) instead of this one.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const root = join(import.meta.dir, '..', '..');
/** The files of the README's "Getting started", as a user writes them. */
export const fixture = join(import.meta.dir, '.fixture-app');

export interface PackageJson {
	name: string;
	version: string;
	exports: Record<string, string | Record<string, string>>;
	dependencies?: Record<string, string>;
	devDependencies?: Record<string, string>;
	peerDependencies?: Record<string, string>;
}

export const rootPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
export const PACKAGE = rootPackage.name;

/** The toolchain the app installs (what `sv create` + adapter-cloudflare + the README add), at this repository's versions. */
const TOOLCHAIN = [
	'svelte',
	'@sveltejs/kit',
	'@sveltejs/vite-plugin-svelte',
	'@sveltejs/adapter-cloudflare',
	'vite',
	'typescript',
	'svelte-check',
	'@cloudflare/workers-types',
	'wrangler',
];

export interface PreparedApp {
	temp: string;
	/** The app's directory. */
	dir: string;
	/** Paths in the tarball, as `npm pack` listed them, sorted. */
	packed: string[];
	/** The installed copy: `<app>/node_modules/@delightstack/websocket`. */
	installed: string;
	/** A binary of the app's own `node_modules/.bin`. */
	bin(name: string): string;
}

/**
 * Runs a command with a bounded time; throws with its output unless it exits 0. A process that
 * aborts (SIGABRT: Node 20 has been seen failing its own `req_wrap_async` assertion in `fs.access`
 * as `vite build` exits, after the build was done) is run once more, and says so; any other failure,
 * or a second abort, throws.
 */
export function run(command: string, args: string[], cwd: string, timeoutMs: number, env: Record<string, string> = {}): string {
	const result = runOnce(command, args, cwd, timeoutMs, env);
	if (result.signal !== 'SIGABRT') return checked(result, command, args, cwd);
	console.error(`${command} ${args.join(' ')} aborted (SIGABRT); running it once more. Its output:\n${result.stdout}\n${result.stderr}`);
	return checked(runOnce(command, args, cwd, timeoutMs, env), command, args, cwd);
}

function runOnce(command: string, args: string[], cwd: string, timeoutMs: number, env: Record<string, string>) {
	return spawnSync(command, args, {
		cwd,
		encoding: 'utf8',
		timeout: timeoutMs,
		killSignal: 'SIGKILL',
		maxBuffer: 64 * 1024 * 1024,
		env: {
			...process.env,
			npm_config_update_notifier: 'false',
			npm_config_fund: 'false',
			npm_config_audit: 'false',
			WRANGLER_SEND_METRICS: 'false',
			CI: '1',
			...env,
		},
	});
}

function checked(result: ReturnType<typeof runOnce>, command: string, args: string[], cwd: string): string {
	if (result.status !== 0) {
		const why = result.error ? String(result.error) : `exit ${result.status ?? result.signal}`;
		throw new Error(`${command} ${args.join(' ')} (in ${cwd}) failed: ${why}\n${result.stdout}\n${result.stderr}`);
	}
	return result.stdout;
}

export function write(path: string, text: string): void {
	mkdirSync(dirname(path), { recursive: true });
	writeFileSync(path, text);
}

export function walk(dir: string): string[] {
	return readdirSync(dir).flatMap((name) => {
		const path = join(dir, name);
		return statSync(path).isDirectory() ? walk(path) : [path];
	});
}

/** Every JavaScript file under `dir` (recursively). */
export function scripts(dir: string): string[] {
	return walk(dir).filter((file) => /\.(js|mjs)$/.test(file));
}

let prepared: Promise<PreparedApp> | undefined;
let built: Promise<void> | undefined;

/** The app, installed and synced (`svelte-kit sync`); prepared on first call. */
export function preparedApp(): Promise<PreparedApp> {
	prepared ??= Promise.resolve().then(prepare);
	return prepared;
}

/** The app after `vite build` (adapter-cloudflare wrapped by `withRooms`); built on first call. */
export function builtApp(): Promise<PreparedApp> {
	built ??= preparedApp().then((app) => {
		run(app.bin('vite'), ['build', '--logLevel', 'warn'], app.dir, 180_000);
	});
	return built.then(() => preparedApp());
}

function prepare(): PreparedApp {
	const temp = mkdtempSync(join(tmpdir(), 'pack-test-'));
	const dir = join(temp, 'app');
	if (process.env.PACK_TEST_KEEP) console.log(`package tests: ${temp}`);
	else process.once('exit', () => rmSync(temp, { recursive: true, force: true }));

	const source = process.env.PACK_TEST_SOURCE ?? root;
	run('npm', ['run', 'build'], source, 120_000);
	// The build just ran; `--ignore-scripts` keeps `prepack` from running it a second time.
	const report = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', temp], source, 60_000)) as {
		filename: string;
		files: { path: string }[];
	}[];
	const tarball = join(temp, report[0]!.filename);
	const packed = report[0]!.files.map((file) => file.path).sort();

	// The README's files, exactly; then what `sv create` would have written around them.
	cpSync(fixture, dir, { recursive: true });
	const devDependencies: Record<string, string> = {};
	for (const name of TOOLCHAIN) {
		const version = rootPackage.devDependencies?.[name];
		if (!version) throw new Error(`package.json devDependencies has no ${name}`);
		devDependencies[name] = version;
	}
	write(
		join(dir, 'package.json'),
		JSON.stringify({ name: 'my-app', private: true, type: 'module', dependencies: { [PACKAGE]: `file:${tarball}` }, devDependencies }, null, '\t'),
	);
	// The tarball is installed for real (extracted into node_modules, its dependencies resolved);
	// the toolchain comes from the npm cache this repository's own install filled.
	run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], dir, 180_000);
	const app: PreparedApp = {
		temp,
		dir,
		packed,
		installed: join(dir, 'node_modules', ...PACKAGE.split('/')),
		bin: (name) => join(dir, 'node_modules', '.bin', name),
	};
	run(app.bin('svelte-kit'), ['sync'], dir, 60_000);
	return app;
}
