/**
 * PROFILING TOOL, outside the comparison: the Worker `bench/profile/micro.ts` runs. It imports the
 * library's internals on purpose (`ops.ts`), to run one piece of frame handling at a time.
 *
 *   /micro/<op>?n=   one piece, n times      /micro/list   the pieces' names
 */
import { runOp } from './ops.js';

export default {
	async fetch(request: Request): Promise<Response> {
		const url = new URL(request.url);
		const [, route, op] = url.pathname.split('/').map(decodeURIComponent);
		if (route !== 'micro' || !op) return new Response('GET /micro/<op>?n= or /micro/list', { status: 404 });
		return runOp(op, Number(url.searchParams.get('n') ?? 1));
	},
};
