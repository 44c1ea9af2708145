/**
 * The client's size as a browser downloads it: `client/index.ts` bundled with esbuild for the
 * browser (ES2022, minified) the way an app's Vite build bundles it, with code splitting on: a
 * dynamic `import()` becomes a chunk of its own, loaded when first called. Rune modules
 * (`*.svelte.ts`) are compiled by Svelte's compiler as an app's build would, `svelte` itself is
 * external (a peer dependency the app already ships), capnweb (the one runtime dependency)
 * included; then gzip (zlib, default level 6, as most servers compress).
 *
 * - the client entry: what a page loads up front, i.e. the entry's own file plus every chunk it
 *   imports statically (with the SharedWorker transport, the browser's default: `client/shared-worker.ts`
 *   and the `client/shared/` modules it pulls in). Target: ≤ 14 kB gzip, capnweb not in it;
 * - the lazy chunks, each with what it imports that is not up front:
 *   - the call recorder's (`calls/shortcut/recorded-batch.ts` with `wire-value.ts` and `plain.ts`,
 *     `calls/deferred-batch.ts` loads it): fetched once connected, or by the first call that is not
 *     one call with JSON data (that one leaves without it);
 *   - capnweb's (`calls/session-batch.ts` and capnweb, `calls/sessions.ts` loads it), fetched on the
 *     first call that needs a capnweb session, and ahead of that once connected;
 *   - the payload decoder's (`rpc/payload.ts`, `client/payload-codec.ts` loads it), fetched by the
 *     first payload that is not plain JSON (a Date, a Map…), and ahead of that once connected;
 *   - the direct socket's (`client/socket-transport.ts` with `connection.ts` and `keepalive.ts`,
 *     `client/loading-transport.ts` loads it): fetched when a client with a socket of its own is
 *     built (`shared: false`, no `SharedWorker`, or the worker failed). Such a page loads the entry
 *     and this chunk before it can connect: the "entry + direct socket" row;
 * - the client entry without the SharedWorker transport: `client/shared-worker.ts` replaced by a
 *   stub with the same export names, i.e. what an app that never uses the shared connection would
 *   ship if that code were split off;
 * - a floor: the entry without the SharedWorker transport and the change feed, two features the
 *   product requires, stubbed out to show what the rest weighs. A size measurement only: nobody
 *   runs that build;
 * - the SharedWorker's own script (`client/shared/worker.ts`, its lazy chunk apart), a separate
 *   asset the browser loads once per origin when the shared connection starts;
 * - minified bytes per package in the entry and in the lazy chunks (esbuild's metafile), and for
 *   reference capnweb bundled alone with every export. (Event payloads use our own
 *   superjson-compatible codec, `rpc/payload.ts`, counted in `library`; superjson is only a
 *   devDependency.)
 *
 * Sizes in kB = 1000 bytes. Nothing is timed; one build each.
 */
import { build, type Metafile, type Plugin } from 'esbuild';
import { dirname, join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { RowCollector, type Bench, type ScenarioResult } from '../context.js';
import { svelteRunes } from '../driver/build.js';

const root = join(import.meta.dir, '..', '..');
const entry = join(root, 'client', 'index.ts');
const sharedWorkerModule = join(root, 'client', 'shared-worker.ts');
const workerEntry = join(root, 'client', 'shared', 'worker.ts');
/** Required features a floor build leaves out (see the header). */
const optionalForFloor = [sharedWorkerModule, join(root, 'client', 'change-feed.ts')];
/** What the client entry must stay within, gzipped (issue 15). */
const ENTRY_TARGET_KB = 14;

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

/** Some output files of a build, measured together. */
interface Part {
	minified: number;
	gzip: number;
	/** Minified bytes in these files per package (`capnweb`…) or `library`. */
	byPackage: Record<string, number>;
	/** Library modules in them, relative to the repository. */
	modules: string[];
	files: string[];
}

interface Built extends Part {
	/** What the entry loads on demand (dynamic imports, and what they import), measured together. */
	lazy: Part;
	/** Each dynamically imported chunk by its module (`calls/session-batch.ts`…), with what it imports that is not up front. */
	lazyChunks: Record<string, Part>;
}

/**
 * Bundles `entryPoint` with code splitting, as Vite builds an app: `Built` is what the page loads
 * up front (the entry and the chunks it imports statically), `lazy` every chunk reached only
 * through a dynamic `import()`.
 */
async function bundle(entryPoint: string | { contents: string }, plugins: Plugin[] = [], external: string[] = []): Promise<Built> {
	const stdinEntry = join(root, '.bench-entry.ts');
	const result = await build({
		entryPoints: [typeof entryPoint === 'string' ? entryPoint : stdinEntry],
		absWorkingDir: root,
		bundle: true,
		splitting: true,
		outdir: join(root, '.bench-bundle'),
		write: false,
		metafile: true,
		minify: true,
		format: 'esm',
		platform: 'browser',
		target: 'es2022',
		conditions: ['svelte', 'browser'],
		external: ['svelte', 'svelte/*', ...external],
		plugins: [...(typeof entryPoint === 'string' ? [] : [virtualEntry(stdinEntry, entryPoint.contents)]), ...plugins, svelteRunes],
		logLevel: 'silent',
	});
	const outputs = result.metafile.outputs;
	const code = new Map(result.outputFiles.map((file) => [relative(root, file.path), file.contents]));
	const entryFile = Object.keys(outputs).find((name) => outputs[name]!.entryPoint !== undefined)!;
	// Up front: the entry and what it imports statically, transitively.
	const upFront = new Set<string>();
	const reach = (name: string, kinds: string[], into: Set<string>) => {
		if (into.has(name)) return;
		into.add(name);
		for (const { path, kind } of outputs[name]!.imports) if (kinds.includes(kind) && outputs[path]) reach(path, kinds, into);
	};
	reach(entryFile, ['import-statement'], upFront);
	const everything = new Set<string>();
	reach(entryFile, ['import-statement', 'dynamic-import'], everything);
	const lazy = [...everything].filter((name) => !upFront.has(name));
	const lazyChunks: Record<string, Part> = {};
	for (const { path, kind } of [...upFront].flatMap((name) => outputs[name]!.imports)) {
		const module = outputs[path]?.entryPoint;
		if (kind !== 'dynamic-import' || module === undefined) continue;
		const closure = new Set<string>();
		reach(path, ['import-statement'], closure);
		lazyChunks[module] = measure(
			[...closure].filter((name) => !upFront.has(name)),
			outputs,
			code,
		);
	}
	return { ...measure([...upFront], outputs, code), lazy: measure(lazy, outputs, code), lazyChunks };
}

/** The sizes of some output files together: one gzip stream per file, summed (as a server sends them). */
function measure(files: string[], outputs: Metafile['outputs'], code: Map<string, Uint8Array>): Part {
	const part: Part = { minified: 0, gzip: 0, byPackage: {}, modules: [], files };
	for (const name of files) {
		const bytes = code.get(name)!;
		part.minified += bytes.byteLength;
		part.gzip += gzipSync(bytes).byteLength;
		for (const [input, { bytesInOutput }] of Object.entries(outputs[name]!.inputs)) {
			const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? 'library';
			part.byPackage[pkg] = (part.byPackage[pkg] ?? 0) + bytesInOutput;
			// Metafile inputs are relative to `absWorkingDir`, the repository, wherever the run started.
			if (pkg === 'library') part.modules.push(input);
		}
	}
	return part;
}

/** An entry given as source text, at `path` (splitting needs a file entry, not stdin). */
function virtualEntry(path: string, contents: string): Plugin {
	return {
		name: 'virtual-entry',
		setup(b) {
			b.onResolve({ filter: /\.bench-entry\.ts$/ }, () => ({ path }));
			b.onLoad({ filter: /\.bench-entry\.ts$/ }, () => ({ contents, loader: 'ts', resolveDir: dirname(path) }));
		},
	};
}

/** The export names of a module (from a metafile of it bundled alone). */
async function exportNames(path: string): Promise<string[]> {
	const result = await build({
		entryPoints: [path],
		absWorkingDir: root,
		bundle: true,
		write: false,
		metafile: true,
		format: 'esm',
		platform: 'browser',
		external: ['svelte', 'svelte/*', 'capnweb'],
		plugins: [svelteRunes],
		logLevel: 'silent',
	});
	return (Object.values(result.metafile.outputs)[0]?.exports ?? []).filter((n) => n !== 'default');
}

export async function bundleScenario(bench: Bench): Promise<ScenarioResult> {
	const rows = new RowCollector('client size (esbuild, browser, minified, code splitting as in an app build; gzip level 6)');
	const kB = (bytes: number) => bytes / 1000;
	const full = await bundle(entry);
	const sharedInside = full.modules.filter((m) => m === 'client/shared-worker.ts' || m.startsWith('client/shared/'));
	const raw: Record<string, unknown> = { scenario: 'bundle', entry: full, sharedModulesInEntry: sharedInside };
	rows.add('ours', 'client entry (client/index.ts), min + gzip', 'kB', kB(full.gzip));
	rows.add('ours', 'client entry, minified', 'kB', kB(full.minified));
	for (const [pkg, bytes] of Object.entries(full.byPackage).sort((a, b) => b[1] - a[1])) {
		rows.add('ours', `client entry, minified: of which ${pkg}`, 'kB', kB(bytes));
	}
	const capnwebChunk = full.lazyChunks['calls/session-batch.ts'];
	const decoderChunk = full.lazyChunks['rpc/payload.ts'];
	const recorderChunk = full.lazyChunks['calls/shortcut/recorded-batch.ts'];
	const socketChunk = full.lazyChunks['client/socket-transport.ts'];
	if (recorderChunk) {
		rows.add(
			'ours',
			'lazy call recorder chunk (once connected, or the first call that is not one call with JSON data), min + gzip',
			'kB',
			kB(recorderChunk.gzip),
		);
		rows.add('ours', 'lazy call recorder chunk, minified', 'kB', kB(recorderChunk.minified));
	}
	if (socketChunk) {
		rows.add('ours', 'lazy direct socket chunk (a client with a socket of its own, when built), min + gzip', 'kB', kB(socketChunk.gzip));
		rows.add(
			'ours',
			'client entry + direct socket chunk (what a page with its own socket loads before connecting), min + gzip',
			'kB',
			kB(full.gzip + socketChunk.gzip),
		);
	}
	if (capnwebChunk) {
		rows.add('ours', 'lazy capnweb chunk (first call needing a session), min + gzip', 'kB', kB(capnwebChunk.gzip));
		rows.add('ours', 'lazy capnweb chunk, minified', 'kB', kB(capnwebChunk.minified));
		for (const [pkg, bytes] of Object.entries(capnwebChunk.byPackage).sort((a, b) => b[1] - a[1])) {
			rows.add('ours', `lazy capnweb chunk, minified: of which ${pkg}`, 'kB', kB(bytes));
		}
	}
	if (decoderChunk) {
		rows.add('ours', 'lazy payload decoder chunk (first payload with a Date, Map…), min + gzip', 'kB', kB(decoderChunk.gzip));
		rows.add('ours', 'lazy payload decoder chunk, minified', 'kB', kB(decoderChunk.minified));
	}
	rows.add('ours', 'every lazy chunk together, min + gzip', 'kB', kB(full.lazy.gzip));
	const notes: string[] = [];
	if (full.byPackage.capnweb) notes.push('capnweb is in the client entry');
	if (full.modules.includes('rpc/payload.ts')) notes.push('the payload decoder is in the client entry');
	if (full.modules.includes('calls/shortcut/recorded-batch.ts')) notes.push('the call recorder is in the client entry');
	if (full.modules.includes('client/socket-transport.ts')) notes.push('the direct socket is in the client entry');
	if (full.modules.includes('client/shared-worker.ts')) {
		const without = await bundle(entry, [await stubOut(sharedWorkerModule)]);
		raw.withoutSharedWorker = without;
		rows.add('ours', 'client entry without the SharedWorker transport, min + gzip', 'kB', kB(without.gzip));
	} else notes.push('the client entry does not include client/shared-worker.ts: no "without" variant');
	const present = optionalForFloor.filter((path) => full.modules.includes(relative(root, path)));
	if (present.length === optionalForFloor.length) {
		const floor = await bundle(entry, [await stubOut(...present)]);
		raw.floor = floor;
		rows.add('ours', 'floor: client entry without the SharedWorker transport and the change feed, min + gzip', 'kB', kB(floor.gzip));
	} else notes.push('a module the floor build stubs out is no longer in the entry: no floor');
	const worker = await bundle(workerEntry);
	raw.sharedWorkerScript = worker;
	rows.add('ours', 'SharedWorker script (client/shared/worker.ts), min + gzip', 'kB', kB(worker.gzip));
	rows.add('ours', 'client entry + SharedWorker script, min + gzip', 'kB', kB(full.gzip + worker.gzip));
	// Reference: what the dependency weighs on its own, every export kept.
	const alone = await bundle({ contents: `export * from 'capnweb';` });
	raw.capnwebAlone = alone;
	rows.add('ours', 'reference: capnweb alone (every export), min + gzip', 'kB', kB(alone.gzip));
	const met = kB(full.gzip) <= ENTRY_TARGET_KB;
	raw.entryTarget = { maxKB: ENTRY_TARGET_KB, met };
	raw.notes = notes;
	bench.log(
		`bundle: client entry ${kB(full.gzip).toFixed(1)} kB gzip (target ≤ ${ENTRY_TARGET_KB} kB: ${met ? 'met' : 'NOT met'}; ${kB(full.minified).toFixed(1)} kB minified, ${full.files.length} file(s), ${sharedInside.length} SharedWorker modules inside); ` +
			`lazy chunks ${Object.entries(full.lazyChunks)
				.map(([module, part]) => `${module} ${kB(part.gzip).toFixed(1)} kB gzip (${part.files.length} file(s))`)
				.join(', ')}${notes.length ? `; ${notes.join('; ')}` : ''}`,
	);
	return { rows: rows.rows(), raw: [raw], faults: 0 };
}
