/**
 * The client's size as a browser downloads it: `client/index.ts` bundled with esbuild for the
 * browser (ES2022, minified), rune modules (`*.svelte.ts`) compiled by Svelte's compiler as an
 * app's build would, `svelte` itself external (a peer dependency the app already ships), capnweb
 * (the one runtime dependency) included; then gzip (zlib, default level 6, as most servers compress).
 *
 * - the client entry as it is (with the SharedWorker transport: `client/shared-worker.ts` and
 *   the `client/shared/` modules it pulls in);
 * - the client entry without it: `client/shared-worker.ts` replaced by a stub with the same
 *   export names, i.e. what an app that never uses the shared connection would ship if that
 *   code were split off;
 * - what capnweb adds to the entry: the entry's gzip size minus the same entry built with capnweb
 *   external (so the share left for everything else is the difference);
 * - a floor: the entry without the SharedWorker transport, the call fast path
 *   (`rpc/recorded-batch.ts`; calls then go through capnweb sessions only) and the change feed —
 *   three features the product requires, stubbed out to show what the rest weighs. A size
 *   measurement only: nobody runs that build;
 * - the SharedWorker's own script (`client/shared/worker.ts`), a separate asset the browser loads
 *   once per origin when the shared connection starts;
 * - minified bytes per package inside the client entry (esbuild's metafile), and for reference
 *   capnweb bundled alone with every export. (Event payloads use our own superjson-compatible
 *   codec, `rpc/payload.ts`, counted in `library`; superjson is only a devDependency.)
 *
 * Sizes in kB = 1000 bytes. Nothing is timed; one build each.
 */
import { build, transform, type Plugin } from 'esbuild';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { compileModule } from 'svelte/compiler';
import { RowCollector, type Bench, type ScenarioResult } from '../context.js';

const root = join(import.meta.dir, '..', '..');
const entry = join(root, 'client', 'index.ts');
const sharedWorkerModule = join(root, 'client', 'shared-worker.ts');
const workerEntry = join(root, 'client', 'shared', 'worker.ts');
/** Required features a floor build leaves out (see the header). */
const optionalForFloor = [sharedWorkerModule, join(root, 'rpc', 'recorded-batch.ts'), join(root, 'client', 'change-feed.ts')];

/** Rune modules, compiled as vite-plugin-svelte would: TypeScript stripped, then `compileModule`. */
const svelteRunes: Plugin = {
	name: 'svelte-runes',
	setup(b) {
		b.onLoad({ filter: /\.svelte\.(ts|js)$/ }, async ({ path }) => {
			const source = await Bun.file(path).text();
			const js = path.endsWith('.ts') ? (await transform(source, { loader: 'ts', target: 'es2022' })).code : source;
			return { contents: compileModule(js, { filename: path, generate: 'client', dev: false }).js.code, loader: 'js' };
		});
	},
};

/** Replaces modules by stubs that export the same names (each a function doing nothing). */
async function stubOut(...paths: string[]): Promise<Plugin> {
	const stubs = new Map<string, string>();
	for (const path of paths) {
		const names = await exportNames(path);
		stubs.set(path, `const off = () => undefined;\nexport { ${names.map((n) => `off as ${n}`).join(', ')} };\n`);
	}
	return {
		name: 'stub',
		setup(b) {
			b.onLoad({ filter: /.*/ }, (args) => {
				const contents = stubs.get(args.path);
				return contents === undefined ? undefined : { contents, loader: 'js' };
			});
		},
	};
}

interface Built {
	minified: number;
	gzip: number;
	/** Minified bytes in the output per package (`capnweb`…) or `library`. */
	byPackage: Record<string, number>;
	/** Library modules in the bundle, relative to the repository. */
	modules: string[];
}

async function bundle(entryPoint: string | { contents: string }, plugins: Plugin[] = [], external: string[] = []): Promise<Built> {
	const result = await build({
		...(typeof entryPoint === 'string' ? { entryPoints: [entryPoint] } : { stdin: { contents: entryPoint.contents, resolveDir: root, loader: 'ts' as const } }),
		absWorkingDir: root,
		bundle: true,
		write: false,
		metafile: true,
		minify: true,
		format: 'esm',
		platform: 'browser',
		target: 'es2022',
		conditions: ['svelte', 'browser'],
		external: ['svelte', 'svelte/*', ...external],
		plugins: [...plugins, svelteRunes],
		logLevel: 'silent',
	});
	const code = result.outputFiles[0]!.contents;
	const output = Object.values(result.metafile.outputs)[0]!;
	const byPackage: Record<string, number> = {};
	const modules: string[] = [];
	for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
		const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? 'library';
		byPackage[pkg] = (byPackage[pkg] ?? 0) + bytesInOutput;
		// Metafile inputs are relative to `absWorkingDir`, the repository, wherever the run started.
		if (pkg === 'library') modules.push(input);
	}
	return { minified: code.byteLength, gzip: gzipSync(code).byteLength, byPackage, modules };
}

/** The export names of a module (from a metafile of it bundled alone). */
async function exportNames(path: string): Promise<string[]> {
	const result = await build({ entryPoints: [path], absWorkingDir: root, bundle: true, write: false, metafile: true, format: 'esm', platform: 'browser', external: ['svelte', 'svelte/*', 'capnweb'], plugins: [svelteRunes], logLevel: 'silent' });
	return (Object.values(result.metafile.outputs)[0]?.exports ?? []).filter((n) => n !== 'default');
}

export async function bundleScenario(bench: Bench): Promise<ScenarioResult> {
	const rows = new RowCollector('client size (esbuild, browser, minified; gzip level 6)');
	const kB = (bytes: number) => bytes / 1000;
	const full = await bundle(entry);
	const sharedInside = full.modules.filter((m) => m === 'client/shared-worker.ts' || m.startsWith('client/shared/'));
	const raw: Record<string, unknown> = { scenario: 'bundle', entry: full, sharedModulesInEntry: sharedInside };
	rows.add('ours', 'client entry (client/index.ts), min + gzip', 'kB', kB(full.gzip));
	rows.add('ours', 'client entry, minified', 'kB', kB(full.minified));
	for (const [pkg, bytes] of Object.entries(full.byPackage).sort((a, b) => b[1] - a[1])) {
		rows.add('ours', `client entry, minified: of which ${pkg}`, 'kB', kB(bytes));
	}
	const notes: string[] = [];
	if (full.modules.includes('client/shared-worker.ts')) {
		const without = await bundle(entry, [await stubOut(sharedWorkerModule)]);
		raw.withoutSharedWorker = without;
		rows.add('ours', 'client entry without the SharedWorker transport, min + gzip', 'kB', kB(without.gzip));
	} else notes.push('the client entry does not include client/shared-worker.ts: no "without" variant');
	const noCapnweb = await bundle(entry, [], ['capnweb']);
	raw.withoutCapnweb = noCapnweb;
	rows.add('ours', 'client entry, min + gzip: what capnweb adds (entry − entry with capnweb external)', 'kB', kB(full.gzip - noCapnweb.gzip));
	const present = optionalForFloor.filter((path) => full.modules.includes(relative(root, path)));
	if (present.length === optionalForFloor.length) {
		const floor = await bundle(entry, [await stubOut(...present)]);
		raw.floor = floor;
		rows.add('ours', 'floor: client entry without the SharedWorker transport, call fast path and change feed, min + gzip', 'kB', kB(floor.gzip));
	} else notes.push('a module the floor build stubs out is no longer in the entry: no floor');
	const worker = await bundle(workerEntry);
	raw.sharedWorkerScript = worker;
	rows.add('ours', 'SharedWorker script (client/shared/worker.ts), min + gzip', 'kB', kB(worker.gzip));
	rows.add('ours', 'client entry + SharedWorker script, min + gzip', 'kB', kB(full.gzip + worker.gzip));
	// Reference: what the dependency weighs on its own, every export kept.
	const alone = await bundle({ contents: `export * from 'capnweb';` });
	raw.capnwebAlone = alone;
	rows.add('ours', 'reference: capnweb alone (every export), min + gzip', 'kB', kB(alone.gzip));
	raw.notes = notes;
	bench.log(`bundle: client entry ${kB(full.gzip).toFixed(1)} kB gzip (${kB(full.minified).toFixed(1)} kB minified; ${sharedInside.length} SharedWorker modules inside)${notes.length ? `; ${notes.join('; ')}` : ''}`);
	return { rows: rows.rows(), raw: [raw], faults: 0 };
}
