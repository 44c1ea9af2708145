/**
 * What the profiling tools that run `WebsocketClient`s in Bun processes share: bundling their client
 * script as the bench bundles its clients, and reading their number flags.
 */
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { svelteRunes } from '../driver/build.js';

/** Where the tools keep what they build (and their data files). */
export const TOOL_DIR = join(import.meta.dir, '..', '.build');

/** The number after `--<name>` on the command line, or `fallback`. */
export function numberFlag(name: string, fallback: number): number {
	const at = process.argv.indexOf(`--${name}`);
	return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

/**
 * Bundles a tool's client script (`browser` and `svelte` conditions, runes compiled for the
 * browser), for Bun to run. Returns the bundle's path.
 */
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
