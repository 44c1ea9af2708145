/**
 * The Worker behind the browser tests' page: the test room (tests/worker) for sockets and RPC, and
 * the built page for everything else, so the page and its socket share one origin.
 *
 * `/api/websocket?room=<room>` is the client's default URL (what the README's component uses):
 * here it joins as `{ user_id: 'reader' }`, standing in for the SvelteKit handle.
 */
import testWorker, { TestRoom } from '../../worker/index.js';

export { TestRoom };

interface Env {
	ROOM: DurableObjectNamespace<TestRoom>;
	/** The built page (tests/.build/shared-page), served from the test process. */
	PAGE: Fetcher;
}

export default {
	fetch(request: Request, env: Env): Promise<Response> | Response {
		const url = new URL(request.url);
		const route = url.pathname.split('/')[1];
		if (route === 'connect' || route === 'rpc') return testWorker.fetch(request, env);
		if (url.pathname === '/api/websocket') {
			const room = url.searchParams.get('room') ?? '';
			const meta = encodeURIComponent(JSON.stringify({ user_id: 'reader' }));
			const since = url.searchParams.has('since') ? `&since=${url.searchParams.get('since')}` : '';
			return testWorker.fetch(new Request(`${url.origin}/connect/${encodeURIComponent(room)}?meta=${meta}${since}`, request), env);
		}
		return env.PAGE.fetch(request);
	},
};
