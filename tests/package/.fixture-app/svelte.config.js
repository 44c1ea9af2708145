import adapter from '@sveltejs/adapter-cloudflare';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';
import { withRooms } from '@delightstack/websocket/adapter';

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	kit: {
		// The Worker adapter-cloudflare writes also exports ChatRoom, so wrangler can bind it.
		adapter: withRooms(adapter(), { ChatRoom: 'src/lib/server/room.ts' }),
	},
};

export default config;
