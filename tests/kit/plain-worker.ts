/**
 * A Worker that is not SvelteKit, for `handleUpgrade`'s workerd tests: a plain `fetch` that lets
 * upgrades into the test room and routes everything else itself. It imports only the `/server`
 * entry's sources, and its bundle must not contain `@sveltejs/kit` (the test checks).
 *
 * - `/api/websocket`: `env` passed whole (binding `ROOM`), a token in the query stands in for a
 *   session lookup; `allowedOrigins` adds https://admin.example.
 * - `/rooms/socket`: the namespace passed itself, on a custom path, everyone is "guest".
 * - `/unbound/socket`: an `env` without the binding (503).
 */
import { handleUpgrade, refuse, type UpgradeOptions } from '../../kit/index.js';
import { TestRoom } from '../worker/index.js';

export { TestRoom };

interface Env {
	ROOM: DurableObjectNamespace<TestRoom>;
}

type Meta = { user_id: string; via: string };

const byToken: UpgradeOptions<Meta> = {
	binding: 'ROOM',
	allowedOrigins: ['https://admin.example'],
	async authorize(request, room) {
		// Stands in for a lookup that takes a round trip.
		const token = await Promise.resolve(new URL(request.url).searchParams.get('token'));
		if (!token) return undefined;
		if (token === 'banned') refuse(403, `Banned from ${room}`);
		return { meta: { user_id: token, via: 'plain' } };
	},
};

const guests: UpgradeOptions<Meta> = {
	path: '/rooms/socket',
	authorize: () => ({ meta: { user_id: 'guest', via: 'namespace' } }),
};

const unbound: UpgradeOptions<Meta> = { path: '/unbound/socket', authorize: () => ({ meta: { user_id: 'x', via: 'none' } }) };

export default {
	async fetch(request: Request, env: Env): Promise<Response> {
		const answer =
			(await handleUpgrade(request, env, byToken)) ?? (await handleUpgrade(request, env.ROOM, guests)) ?? (await handleUpgrade(request, {}, unbound));
		if (answer) return answer;

		const [, route, room] = new URL(request.url).pathname.split('/');
		if (route === 'sessions' && room) {
			return Response.json(await env.ROOM.get(env.ROOM.idFromName(decodeURIComponent(room))).getSessions());
		}
		return new Response('routed by the worker', { status: 404 });
	},
};
