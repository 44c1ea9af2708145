/**
 * How the handle says no. Every refusal is a small JSON body with the same shape the room uses for its
 * own errors (`{status, code, message}`), so a client can show or log any of them the same way
 * whether the handle or the room refused.
 */
import { encodeCalls } from '../calls/batch.js';
import { pushFrame } from '../rpc/frame.js';

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
	| 'version_mismatch'
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

/**
 * Close codes for refusals a browser must see: 4401 and 4403 mirror 401 and 403; 4426 mirrors the
 * 426 of a client of another wire version (`version_mismatch`).
 */
const CLOSE_CODES: Record<number, number> = { 401: 4401, 403: 4403, 426: 4426 };

/**
 * How long a refused socket waits for the client's word before it is closed anyway (a client that is
 * not ours never answers).
 */
const REFUSAL_WAIT_MS = 5_000;

/**
 * A refusal a page must tell from an outage, delivered as a socket closed with a code: an upgrade's
 * authorization failure (401 or 403), or its client's wire version (426). A page never sees an
 * upgrade's HTTP status — a refused handshake looks exactly like a network error, and a client
 * would keep retrying. Where the
 * runtime can (workerd: `WebSocketPair`), the socket is accepted and closed with 4401, 4403 or 4426
 * and the refusal's message as the reason, which `WebsocketClient` treats as terminal. The room is
 * never involved. Elsewhere (and for every other refusal) it is the plain JSON {@link refusal}.
 *
 * The socket is closed only once the client has said something: a socket a stateless Worker closes
 * before the client ever wrote to it makes `wrangler dev` log "Uncaught Error: Network connection
 * lost." for every refusal. So the first frame is the room's own pair of notices — `confirm(nonce)`,
 * which every client answers with a read confirmation, then `closing(code, reason)` — and the close
 * follows that answer (or {@link REFUSAL_WAIT_MS}, for clients that never answer).
 */
export function socketRefusal(status: number, code: string, message: string): Response {
	const closeCode = CLOSE_CODES[status];
	const Pair = (globalThis as { WebSocketPair?: new () => { 0: WebSocket; 1: WebSocket } }).WebSocketPair;
	if (closeCode === undefined || Pair === undefined) return refusal(status, code, message);
	const { 0: client, 1: server } = new Pair();
	const reason = closeReason(`${code}: ${message}`);
	const close = () => {
		clearTimeout(timer);
		try {
			server.close(closeCode, reason);
		} catch {
			// The client closed first: nothing left to say.
		}
	};
	const timer = setTimeout(close, REFUSAL_WAIT_MS);
	(server as WebSocket & { accept(): void }).accept();
	server.addEventListener('message', close, { once: true });
	server.addEventListener('close', close, { once: true });
	server.send(
		pushFrame(
			encodeCalls([
				['confirm', 'refused'],
				['closing', closeCode, reason],
			]),
		),
	);
	return new Response(null, { status: 101, webSocket: client } as ResponseInit);
}

/** A close reason is at most 123 bytes of UTF-8. */
function closeReason(text: string): string {
	const bytes = new TextEncoder();
	if (bytes.encode(text).byteLength <= 123) return text;
	let cut = text.slice(0, 120);
	while (bytes.encode(cut).byteLength > 120) cut = cut.slice(0, -1);
	return `${cut}…`;
}

/**
 * Thrown by an `authorize` to refuse a socket with a status other than 401 (returning nothing is
 * the 401): `refuse(403, 'Not your room')`. The socket never reaches the room; a browser sees close
 * code 4403 for a 403 (4401 for a 401), other statuses as a failed handshake.
 */
export class UpgradeRefused extends Error {
	override readonly name = 'UpgradeRefused';
	constructor(
		/** The HTTP status of the refusal, 400–599. */
		readonly status: number,
		message: string,
		/** Stable and machine-readable; defaults to the status's (`forbidden` for 403). */
		readonly code: string = codeForStatus(status),
	) {
		super(message);
	}
}

/**
 * Refuses the socket being authorized: throw it from `authorize`. Works in SvelteKit and in a plain
 * Worker alike (in SvelteKit, `error(403, 'Not your room')` does the same).
 *
 * ```ts
 * authorize(request, room) {
 *   if (!mayJoin(user, room)) refuse(403, 'Not your room');
 *   return { meta: { user_id: user.id } };
 * }
 * ```
 */
export function refuse(status: number, message: string, code?: string): never {
	if (!Number.isInteger(status) || status < 400 || status > 599) throw new RangeError(`refuse: status must be 400–599, got ${status}`);
	throw new UpgradeRefused(status, message, code);
}
