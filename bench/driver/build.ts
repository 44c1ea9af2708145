/**
 * The bench's code under test, bundled the way an app's build would bundle it, from the package's
 * public entry points only:
 *
 * - `@delightstack/websocket/<entry>` resolves through package.json's `exports` (with the bundle's
 *   conditions), like any app's import. The `exports` targets are the built `dist/` files, which
 *   `npm run build` emits from the sources one for one (`scripts/build-package.ts`: `dist/client/index.js`
 *   from `client/index.ts`); the bench takes the source of each target, so it always measures the
 *   working tree without a build step, as `tsc` does when type-checking bench/ (tsconfig.json's
 *   `rootDir`/`outDir`).
 * - Rune modules (`*.svelte.ts`) are compiled by `svelte/compiler` for the browser, as
 *   vite-plugin-svelte compiles them in an app (TypeScript stripped first).
 *
 * The Worker (`bench/worker/index.ts`) is bundled as wrangler would for workerd; the client
 * processes (`bench/clients/main.ts`) as Vite would for a browser (`browser` and `svelte`
 * conditions, so `svelte` is its client runtime), then run by Bun.
 */
import { build, transform, type Plugin } from 'esbuild';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileModule } from 'svelte/compiler';

const root = join(import.meta.dir, '..', '..');
const outdir = join(root, 'bench', '.build');
const PACKAGE = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; exports: Record<string, ExportTarget> };

type ExportTarget = string | { [condition: string]: ExportTarget };

/** The source file behind `specifier` (`@delightstack/websocket/client`), through `exports`. */
export function packageSource(specifier: string, conditions: readonly string[]): string {
	const subpath = specifier === PACKAGE.name ? '.' : `.${specifier.slice(PACKAGE.name.length)}`;
	let target = PACKAGE.exports[subpath];
	if (target === undefined)
		throw new Error(`${specifier} is not a public entry point of ${PACKAGE.name} (package.json exports: ${Object.keys(PACKAGE.exports).join(', ')})`);
	while (typeof target === 'object') {
		const key: string | undefined = Object.keys(target).find((k) => k === 'default' || conditions.includes(k));
		if (key === undefined) throw new Error(`${specifier}: no exports target for conditions ${conditions.join(', ')}`);
		target = target[key]!;
	}
	if (!target.startsWith('./dist/') || !target.endsWith('.js')) throw new Error(`${specifier}: exports target ${target} is not a dist/*.js module`);
	const source = join(root, target.slice('./dist/'.length, -'.js'.length) + '.ts');
	if (!existsSync(source)) throw new Error(`${specifier}: exports target ${target} has no source at ${source}`);
	return source;
}

/** Resolves the package's own name through its `exports`, as an app's bundler does. */
function packageExports(conditions: readonly string[]): Plugin {
	const filter = new RegExp(`^${PACKAGE.name.replace(/[/.]/g, '\\$&')}(/|$)`);
	return {
		name: 'package-exports',
		setup(b) {
			b.onResolve({ filter }, ({ path }) => ({ path: packageSource(path, conditions) }));
		},
	};
}

/** Rune modules compiled for the browser, as vite-plugin-svelte does: TypeScript stripped, then `compileModule`. */
export const svelteRunes: Plugin = {
	name: 'svelte-runes',
	setup(b) {
		b.onLoad({ filter: /\.svelte\.(ts|js)$/ }, async ({ path }) => {
			const source = await Bun.file(path).text();
			const js = path.endsWith('.ts') ? (await transform(source, { loader: 'ts', target: 'esnext' })).code : source;
			return { contents: compileModule(js, { filename: path, generate: 'client', dev: false }).js.code, loader: 'js' };
		});
	},
};

/** Conditions of each bundle: wrangler's for workerd, Vite's (plus vite-plugin-svelte's) for a browser. */
const WORKER_CONDITIONS = ['workerd', 'worker', 'browser', 'import'];
const CLIENT_CONDITIONS = ['svelte', 'browser', 'production', 'import'];

/** Bundles a Worker entry (a path under bench/) into bench/.build/<name>.js for Miniflare. */
export async function buildWorker(entry: string, name: string): Promise<string> {
	mkdirSync(outdir, { recursive: true });
	const outfile = join(outdir, `${name}.js`);
	await build({
		entryPoints: [join(root, 'bench', entry)],
		outfile,
		bundle: true,
		format: 'esm',
		platform: 'neutral',
		target: 'es2022',
		// As wrangler resolves: capnweb's workerd build, nanoid's (partyserver's) browser build.
		// `cloudflare:*` is provided by the runtime.
		conditions: WORKER_CONDITIONS,
		mainFields: ['module', 'main'],
		external: ['cloudflare:*', 'node:*'],
		plugins: [packageExports(WORKER_CONDITIONS)],
		logLevel: 'error',
	});
	return outfile;
}

let client: Promise<string> | undefined;

/**
 * The client process script (`bench/clients/main.ts` and what it imports), bundled once per run
 * into bench/.build/bench-client.js; `bun` runs it in every client process.
 */
export function buildClient(): Promise<string> {
	return (client ??= (async () => {
		mkdirSync(outdir, { recursive: true });
		const outfile = join(outdir, 'bench-client.js');
		await build({
			entryPoints: [join(root, 'bench', 'clients', 'main.ts')],
			outfile,
			bundle: true,
			format: 'esm',
			// Bun runs it: Node's built-ins stay imports; everything else is resolved as for a browser.
			platform: 'node',
			target: 'esnext',
			conditions: CLIENT_CONDITIONS,
			plugins: [packageExports(CLIENT_CONDITIONS), svelteRunes],
			sourcemap: 'inline',
			logLevel: 'error',
		});
		return outfile;
	})().catch((error) => {
		client = undefined;
		throw error;
	}));
}
