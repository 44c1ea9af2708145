/**
 * Builds the browser tests' page the way an app's Vite build would: the client comes from the
 * published build (dist/, after `scripts/build-package.ts`), its runes compiled by
 * vite-plugin-svelte, and its SharedWorker found through `new URL('./shared/worker.js',
 * import.meta.url)` and bundled as a worker asset.
 */
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');

export default defineConfig({
	root: here,
	logLevel: 'warn',
	plugins: [svelte()],
	// The page imports the sources for their types; the build takes the published modules instead,
	// as does the README component, which imports the package by its name.
	resolve: {
		alias: [
			{ find: '../../../client/index.js', replacement: join(root, 'dist', 'client', 'index.js') },
			{ find: '@delightstack/websocket/client', replacement: join(root, 'dist', 'client', 'index.js') },
		],
	},
	build: {
		outDir: join(root, 'tests', '.build', 'shared-page'),
		emptyOutDir: true,
		target: 'es2022',
		// The recording page, and the README's component (readme.html).
		rollupOptions: { input: { main: join(here, 'index.html'), readme: join(here, 'readme.html') } },
	},
});
