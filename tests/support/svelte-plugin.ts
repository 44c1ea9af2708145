/**
 * A Bun plugin that runs Svelte 5 rune modules (`*.svelte.ts`, `*.svelte.js`) the way Vite would:
 * TypeScript types stripped by Bun's transpiler, then `compileModule` from `svelte/compiler`.
 *
 * For `generate: 'client'` it also resolves `svelte` and its subpaths with the `browser` export
 * condition for our own code (client/, tests/client/, rune modules): Bun resolves `svelte` to its
 * server build by default, where `flushSync` and `$effect` are no-ops. Only our importers are
 * redirected, so other suites that render on the server keep the server build.
 */
import type { BunPlugin } from 'bun';
import { compileModule } from 'svelte/compiler';
import { readFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';

const root = join(import.meta.dir, '..', '..');
const svelteDir = dirname(Bun.resolveSync('svelte/package.json', root));
const browserImporters = [join(root, 'client') + sep, join(root, 'tests', 'client') + sep];

type ExportTarget = string | { [condition: string]: ExportTarget };

/** The file `svelte/<subpath>` resolves to under the `browser` condition, if svelte exports it. */
function browserEntry(specifier: string): string | undefined {
	const exports = JSON.parse(readFileSync(join(svelteDir, 'package.json'), 'utf8')).exports as Record<string, ExportTarget>;
	const key = specifier === 'svelte' ? '.' : `./${specifier.slice('svelte/'.length)}`;
	let target: ExportTarget | undefined = exports[key];
	while (target && typeof target === 'object') target = target.browser ?? target.import ?? target.default;
	return typeof target === 'string' ? join(svelteDir, target) : undefined;
}

export function svelteModules(options: { generate: 'client' | 'server' }): BunPlugin {
	const transpiler = new Bun.Transpiler({ loader: 'ts' });
	return {
		name: `svelte-modules (${options.generate})`,
		setup(build) {
			build.onLoad({ filter: /\.svelte\.(ts|js)$/ }, async ({ path }) => {
				const source = await Bun.file(path).text();
				const js = path.endsWith('.ts') ? transpiler.transformSync(source) : source;
				const { js: out } = compileModule(js, { filename: path, generate: options.generate, dev: false });
				return { contents: out.code, loader: 'js' };
			});
			if (options.generate !== 'client') return;
			build.onResolve({ filter: /^svelte(\/[\w-]+)*$/ }, ({ path, importer }) => {
				const ours = /\.svelte\.(ts|js)$/.test(importer) || browserImporters.some((dir) => importer.startsWith(dir));
				if (!ours) return undefined;
				const entry = browserEntry(path);
				return entry ? { path: entry } : undefined;
			});
		},
	};
}
