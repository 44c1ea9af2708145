import adapter from '@sveltejs/adapter-cloudflare';
import { appendFileSync } from 'node:fs';
import { relative, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Where adapter-cloudflare writes the Worker: wrangler.toml's `main`. */
const WORKER = resolve(here, '.svelte-kit/cloudflare/_worker.js');
/** The room Durable Object, exported from the same Worker as the app. */
const ROOM_MODULE = resolve(here, 'src/lib/server/room.ts');

/**
 * adapter-cloudflare, plus one line: the Worker it writes must also export the room's Durable Object
 * class, or wrangler refuses to bind it ("Durable Objects … not exported in your entrypoint"). The
 * adapter has no option for extra exports, so append the export after it has written the file;
 * wrangler's bundler compiles the TypeScript room module along with the rest.
 *
 * @param {import('@sveltejs/adapter-cloudflare').AdapterOptions} [options]
 * @returns {import('@sveltejs/kit').Adapter}
 */
function cloudflareWithRoom(options) {
	const base = adapter(options);
	return {
		...base,
		async adapt(builder) {
			await base.adapt(builder);
			const from = relative(dirname(WORKER), ROOM_MODULE).split('\\').join('/');
			appendFileSync(WORKER, `\nexport { ChatRoom } from './${from}';\n`);
		},
	};
}

/** @type {import('@sveltejs/kit').Config} */
export default {
	kit: {
		adapter: cloudflareWithRoom({
			// `vite dev` only: bindings come from dev/wrangler.app.toml, whose WS binding reaches the
			// rooms Worker (dev/rooms.ts) that `scripts/demo-dev.sh` starts.
			platformProxy: { configPath: 'dev/wrangler.app.toml' },
		}),
	},
};
