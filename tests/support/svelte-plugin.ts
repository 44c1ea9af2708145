/**
 * A Bun plugin that runs Svelte 5 rune modules (`*.svelte.ts`, `*.svelte.js`) the way Vite would:
 * TypeScript types stripped by Bun's transpiler, then `compileModule` from `svelte/compiler`.
 *
 * With `generate: 'client'`, the module's own `svelte` imports (`flushSync`, `tick`,
 * `svelte/reactivity`…) are pointed at the `browser` export condition: Bun resolves `svelte` to its
 * server build, where `flushSync` is a no-op. This is done by rewriting the compiled module's
 * import specifiers to absolute paths, because a runtime plugin's `onResolve` is not consulted for
 * bare package specifiers (oven-sh/bun#40579). Only rune modules are affected, so other suites
 * that render on the server keep the server build; test files get what they need from a rune
 * helper module (tests/support/runes.svelte.ts).
 */
import type { BunPlugin } from 'bun';
import { compileModule } from 'svelte/compiler';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const svelteDir = dirname(Bun.resolveSync('svelte/package.json', import.meta.dir));

type ExportTarget = string | { [condition: string]: ExportTarget };

let exportsMap: Record<string, ExportTarget> | undefined;

/** The file `svelte[/subpath]` resolves to under the `browser` condition, if svelte exports it. */
function browserEntry(specifier: string): string | undefined {
	exportsMap ??= JSON.parse(readFileSync(join(svelteDir, 'package.json'), 'utf8')).exports as Record<string, ExportTarget>;
	const key = specifier === 'svelte' ? '.' : `./${specifier.slice('svelte/'.length)}`;
	let target: ExportTarget | undefined = exportsMap[key];
	while (target && typeof target === 'object') target = target.browser ?? target.import ?? target.default;
	return typeof target === 'string' ? join(svelteDir, target) : undefined;
}

/** `from 'svelte…'` and `import('svelte…')` specifiers in compiled output. */
const SVELTE_SPECIFIER = /(\bfrom\s*|\bimport\s*\(?\s*)(['"])(svelte(?:\/[\w-]+)*)\2/g;

function useBrowserBuild(code: string): string {
	return code.replace(SVELTE_SPECIFIER, (match, lead: string, quote: string, specifier: string) => {
		const entry = browserEntry(specifier);
		return entry ? `${lead}${quote}${entry}${quote}` : match;
	});
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
				return { contents: options.generate === 'client' ? useBrowserBuild(out.code) : out.code, loader: 'js' };
			});
		},
	};
}
