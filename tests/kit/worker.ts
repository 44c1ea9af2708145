/**
 * The Worker the handle's workerd tests run: the real handle in front of the real test room.
 *
 * A stand-in for an auth handle fills `locals` from a `test_auth` cookie (URL-encoded JSON in the
 * shape `@delightstack/auth` uses), as a signed-session cookie would; then two handles run in turn,
 * as `sequence` would chain them: the default one on `/api/websocket` and one with a custom async
 * `authorize` on `/custom/websocket`. Everything else reaches the "app": routes that read the room
 * through Workers RPC, so the tests can see what the room was told.
 */
import { error, type RequestEvent } from '@sveltejs/kit';
import { createWebsocketHandle } from '../../kit/index.js';
import { TestRoom } from '../worker/index.js';
import { requestEvent } from './event.js';

export { TestRoom };

interface Env {
	ROOM: DurableObjectNamespace<TestRoom>;
}

function platformEnv(event: RequestEvent): Env {
	return (event.platform as { env: Env }).env;
}

const websocketHandle = createWebsocketHandle({ getServer: (event) => platformEnv(event).ROOM });

const customHandle = createWebsocketHandle<{ user_id: string; via: string }>({
	path: '/custom/websocket',
	getServer: (event) => platformEnv(event).ROOM,
	async authorize(event, room) {
		// Stands in for a token lookup that takes a round trip.
		const token = await Promise.resolve(event.url.searchParams.get('token'));
		if (!token) return undefined;
		if (token === 'banned') error(403, `Banned from ${room}`);
		return { meta: { user_id: token, via: 'custom' } };
	},
});

/** What an auth handle does: turn the session cookie into `locals`. */
function localsFromCookie(request: Request): Record<string, unknown> {
	const cookie = request.headers.get('cookie') ?? '';
	const raw = cookie
		.split(/;\s*/)
		.find((c) => c.startsWith('test_auth='))
		?.slice('test_auth='.length);
	return raw ? (JSON.parse(decodeURIComponent(raw)) as Record<string, unknown>) : { session: null, user: null };
}

async function app(event: RequestEvent): Promise<Response> {
	const [, route, room] = event.url.pathname.split('/');
	const env = platformEnv(event);
	if ((route === 'sessions' || route === 'stats') && room) {
		const stub = env.ROOM.get(env.ROOM.idFromName(decodeURIComponent(room)));
		return Response.json(route === 'sessions' ? await stub.getSessions() : await stub.stats());
	}
	return new Response('resolved by the app', { status: 404 });
}

export default {
	async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
		const event = requestEvent(request, { locals: localsFromCookie(request), platform: { env, ctx } });
		return websocketHandle({
			event,
			resolve: (event) => customHandle({ event, resolve: (event) => app(event) }),
		});
	},
};
