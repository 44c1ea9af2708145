import { sveltekit } from '@sveltejs/kit/vite';
import { rooms } from '@delightstack/websocket/vite';
import { defineConfig } from 'vite';

export default defineConfig({
	// rooms(): under `vite dev`, runs the rooms in local workerd and lets sockets into them.
	plugins: [sveltekit(), rooms()],
});
