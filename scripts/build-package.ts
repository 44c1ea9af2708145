/**
 * Builds the published package into `dist/`: `tsc` emits JavaScript and `.d.ts` for every module of
 * `rpc/`, `calls/`, `do/`, `kit/`, `client/` and `vite/` (the Vite plugin and the adapter helper, which run in
 * Node), keeping the folder layout the `exports` map points at. It
 * builds into `.tmp/` and swaps the result in, so concurrent readers of `dist/` are not disturbed.
 *
 * Runes modules (`*.svelte.ts`) come out as `*.svelte.js` with their runes intact, which is how
 * `@sveltejs/package` ships them: the app's Svelte compiler (vite-plugin-svelte) compiles
 * `.svelte.js` modules from dependencies, so the runes run on the app's own Svelte runtime rather
 * than a second copy baked into this package.
 *
 * Run with `bun scripts/build-package.ts` (or `node --experimental-strip-types`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');
// Built beside it, then swapped in: whatever reads dist/ meanwhile (a demo build, a test, another
// build) never sees it half-written or missing, and a failed build leaves the previous one in place.
const scratch = join(root, '.tmp');
const fresh = join(scratch, `dist-${process.pid}`);
const stale = join(scratch, `dist-old-${process.pid}`);

mkdirSync(scratch, { recursive: true });
rmSync(fresh, { recursive: true, force: true });
try {
	execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(root, 'scripts', 'tsconfig.build.json'), '--outDir', fresh], {
		cwd: root,
		stdio: 'inherit',
	});
} catch {
	rmSync(fresh, { recursive: true, force: true });
	console.error('tsc failed; dist/ left as it was');
	process.exit(1);
}

// Every entry point the `exports` map names must exist, with its types next to it; so must the
// SharedWorker's module, which `client/shared-worker.js` loads by a URL relative to itself, the
// capnweb sessions, which `calls/sessions.js` imports on demand (an app's build makes them a chunk
// of their own), and the dev rooms Worker's front, which the Vite plugin bundles by a URL relative
// to itself. `./headless` (client/headless.ts) is required once its source exists.
const entries = [
	'rpc/index',
	'do/index',
	'kit/index',
	'client/index',
	'client/shared/worker',
	'calls/session-batch',
	'vite/index',
	'vite/adapter',
	'vite/dev-worker',
];
if (existsSync(join(root, 'client', 'headless.ts'))) entries.push('client/headless');
const missing = entries.flatMap((entry) =>
	['.js', '.d.ts'].map((ext) => `dist/${entry}${ext}`).filter((file) => !existsSync(join(fresh, file.slice('dist/'.length)))),
);

// capnweb's sessions are imported on demand, which keeps capnweb off the client's first load: that
// `import()` must come through the build as it is, for the app's bundler to split it off.
const loader = join(fresh, 'calls', 'sessions.js');
if (!existsSync(loader) || !readFileSync(loader, 'utf8').includes("import('./session-batch.js')"))
	missing.push("calls/sessions.js without import('./session-batch.js')");
// Likewise the payload decoder, which `client/payload-codec.js` imports on demand.
const decoderLoader = join(fresh, 'client', 'payload-codec.js');
if (!existsSync(decoderLoader) || !readFileSync(decoderLoader, 'utf8').includes("import('../rpc/payload.js')"))
	missing.push("client/payload-codec.js without import('../rpc/payload.js')");

const files = walk(fresh);
const runes = files.filter((file) => file.endsWith('.svelte.js'));
console.log(
	`dist/: ${files.filter((f) => f.endsWith('.js')).length} modules, ${runes.length} runes modules (${runes.map((f) => relative(fresh, f)).join(', ') || 'none'})`,
);
if (missing.length > 0) {
	rmSync(fresh, { recursive: true, force: true });
	console.error(`Missing in the build: ${missing.join(', ')}; dist/ left as it was`);
	process.exit(1);
}

// Two renames: dist/ is absent only between them.
if (existsSync(dist)) renameSync(dist, stale);
renameSync(fresh, dist);
rmSync(stale, { recursive: true, force: true });

function walk(dir: string): string[] {
	return readdirSync(dir).flatMap((name) => {
		const path = join(dir, name);
		return statSync(path).isDirectory() ? walk(path) : [path];
	});
}
