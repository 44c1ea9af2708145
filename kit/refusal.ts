/**
 * How the handle says no. Every refusal is a small JSON body with the same shape the room uses for its
 * own errors (`{status, code, message}`), so a client can show or log any of them the same way
 * whether the handle or the room refused.
 */

/** The body of every refusal. */
export interface RefusalBody {
	status: number;
	/** Stable and machine-readable: `upgrade_required`, `origin_not_allowed`, `bad_room`, … */
	code: string;
	/** For people: what was wrong and, where it helps, what to do about it. */
	message: string;
}

/** The codes the handle itself produces (an `authorize` may throw others through `error()`). */
export type RefusalCode =
	| 'upgrade_required'
	| 'origin_not_allowed'
	| 'bad_room'
	| 'unauthorized'
	| 'forbidden'
	| 'server_unavailable'
	| 'room_unavailable'
	| 'internal_error';

/** A refusal response: `{status, code, message}` as JSON, plus any extra `headers`. */
export function refusal(status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
	const body: RefusalBody = { status, code, message };
	return new Response(JSON.stringify(body), {
		status,
		headers: {
			'content-type': 'application/json; charset=utf-8',
			// A refusal depends on who asked (cookies, Origin): never let a cache replay it.
			'cache-control': 'no-store',
			...headers,
		},
	});
}

/** The code a refusal gets when only its status is known (e.g. `error(403)` thrown by `authorize`). */
export function codeForStatus(status: number): string {
	switch (status) {
		case 400:
			return 'bad_request';
		case 401:
			return 'unauthorized';
		case 403:
			return 'forbidden';
		case 404:
			return 'not_found';
		case 429:
			return 'rate_limited';
		case 503:
			return 'server_unavailable';
		default:
			return status >= 500 ? 'internal_error' : 'refused';
	}
}
