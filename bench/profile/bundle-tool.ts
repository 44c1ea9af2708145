/**
 * Bundles a profiling tool's client script as the bench bundles its clients (`browser` and `svelte`
 * conditions, runes compiled for the browser), for Bun to run. Returns the bundle's path.
 */
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { svelteRunes } from '../driver/build.js';

/** Where the tools keep what they build (and their data files). */
export const TOOL_DIR = join(import.meta.dir, '..', '.build');

export async function bundleTool(entry: string): Promise<string> {
	mkdirSync(TOOL_DIR, { recursive: true });
	const outfile = join(TOOL_DIR, entry.replace(/\.ts$/, '.js'));
	await build({
		entryPoints: [join(import.meta.dir, entry)],
		outfile,
		bundle: true,
		format: 'esm',
		platform: 'node',
		target: 'esnext',
		conditions: ['svelte', 'browser', 'production', 'import'],
		plugins: [svelteRunes],
		logLevel: 'error',
	});
	return outfile;
}
