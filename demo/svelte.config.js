import adapter from '@sveltejs/adapter-cloudflare';
import { withRooms } from '@delightstack/websocket/adapter';

/** @type {import('@sveltejs/kit').Config} */
export default {
	kit: {
		// The Worker adapter-cloudflare writes (wrangler.toml's `main`) also exports ChatRoom, or wrangler
		// would refuse to bind it; under `vite dev`, platform.env.WS is the rooms() plugin's dev room.
		adapter: withRooms(adapter(), { ChatRoom: 'src/lib/server/room.ts' }),
	},
};
