/**
 * Vite dev mode only: the chat rooms in a Worker of their own, with the socket path's half of
 * hooks.server.ts in front of them.
 *
 * Under `vite dev`, Vite answers WebSocket upgrades itself, so they never reach hooks.server.ts, and
 * the app's platform proxy cannot reach a Durable Object defined in the app's own Worker. So in dev,
 * Vite proxies /api/websocket here (vite.config.ts), and the app reaches the rooms through a
 * `script_name` binding to this Worker (dev/wrangler.app.toml). This Worker runs the same session
 * cookie → locals step and the same `createWebsocketHandle` as hooks.server.ts does in production.
 */
import type { RequestEvent } from '@sveltejs/kit';
import { createWebsocketHandle } from '@delightstack/websocket/server';
import { ChatRoom } from '../src/lib/server/room.js';
import { SESSION_COOKIE, localsFor, openSession } from '../src/lib/server/session.js';

export { ChatRoom };

interface Env {
	WS: DurableObjectNamespace<ChatRoom>;
	SESSION_SECRET: string;
}

const websocketHandle = createWebsocketHandle({ getServer: (event) => (event.platform as { env: Env }).env.WS });

export default {
	async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
		const session = await openSession(cookie(request, SESSION_COOKIE), env.SESSION_SECRET);
		// The parts of a SvelteKit RequestEvent the handle reads.
		const event = { request, url: new URL(request.url), locals: localsFor(session), platform: { env, ctx } } as unknown as RequestEvent;
		return websocketHandle({ event, resolve: async () => new Response('Not found', { status: 404 }) });
	},
};

function cookie(request: Request, name: string): string | undefined {
	for (const part of (request.headers.get('cookie') ?? '').split(/;\s*/)) {
		const at = part.indexOf('=');
		if (at > 0 && part.slice(0, at) === name) return decodeURIComponent(part.slice(at + 1));
	}
	return undefined;
}
