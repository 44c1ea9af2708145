/**
 * The Worker behind the browser tests' page: the test room (tests/worker) for sockets and RPC, and
 * the built page for everything else, so the page and its socket share one origin.
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
		const route = new URL(request.url).pathname.split('/')[1];
		if (route === 'connect' || route === 'rpc') return testWorker.fetch(request, env);
		return env.PAGE.fetch(request);
	},
};
