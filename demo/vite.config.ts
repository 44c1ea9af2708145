import { rooms } from '@delightstack/websocket/vite';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

export default defineConfig({
	// rooms(): under `vite dev`, ChatRoom runs in local workerd and sockets to /api/websocket reach it
	// after hooks.server.ts said yes (the same handle as in production).
	plugins: [sveltekit(), rooms()],
	server: { host: '127.0.0.1' },
});
