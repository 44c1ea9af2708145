/**
 * Builds the published package into `dist/`: `tsc` emits JavaScript and `.d.ts` for every module of
 * `rpc/`, `do/`, `kit/` and `client/`, keeping the folder layout the `exports` map points at.
 *
 * Runes modules (`*.svelte.ts`) come out as `*.svelte.js` with their runes intact, which is how
 * `@sveltejs/package` ships them: the app's Svelte compiler (vite-plugin-svelte) compiles
 * `.svelte.js` modules from dependencies, so the runes run on the app's own Svelte runtime rather
 * than a second copy baked into this package.
 *
 * Run with `bun scripts/build-package.ts` (or `node --experimental-strip-types`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');

rmSync(dist, { recursive: true, force: true });
execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(root, 'scripts', 'tsconfig.build.json')], {
	cwd: root,
	stdio: 'inherit',
});

// Every entry point the `exports` map names must exist, with its types next to it.
const entries = ['rpc/index', 'do/index', 'kit/index', 'client/index'];
const missing = entries.flatMap((entry) =>
	['.js', '.d.ts'].map((ext) => `dist/${entry}${ext}`).filter((file) => !existsSync(join(root, file))),
);

const files = walk(dist);
const runes = files.filter((file) => file.endsWith('.svelte.js'));
console.log(`dist/: ${files.filter((f) => f.endsWith('.js')).length} modules, ${runes.length} runes modules (${runes.map((f) => relative(dist, f)).join(', ') || 'none'})`);
if (missing.length > 0) {
	console.error(`Missing entry points: ${missing.join(', ')}`);
	process.exit(1);
}

function walk(dir: string): string[] {
	return readdirSync(dir).flatMap((name) => {
		const path = join(dir, name);
		return statSync(path).isDirectory() ? walk(path) : [path];
	});
}
