import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

/** Where `wrangler dev -c dev/wrangler.rooms.toml` serves the rooms in Vite dev mode. */
const DEV_ROOMS = 'http://127.0.0.1:8790';

export default defineConfig({
	plugins: [sveltekit()],
	server: {
		host: '127.0.0.1',
		// Vite dev mode only: Vite keeps WebSocket upgrades from reaching hooks.server.ts, so the socket
		// path goes to the rooms Worker (dev/rooms.ts), which runs the same handle. Host and Origin
		// pass through unchanged, so the handle's same-origin check sees the page's own origin.
		proxy: {
			'/api/websocket': { target: DEV_ROOMS, ws: true, changeOrigin: false },
		},
	},
});
