/**
 * Server code reaching the signed-in user's room: the Durable Object of their organisation, through
 * Workers RPC on the namespace stub (its own methods, e.g. `listTodos`, which browsers cannot call).
 */
import { error, type RequestEvent } from '@sveltejs/kit';

/** The caller's organisation room and who they are; 401 when nobody is signed in. */
export function roomOf(event: RequestEvent) {
	const { locals, platform } = event;
	if (!locals.user || !locals.org_id) error(401, 'Sign in first');
	const rooms = platform?.env.WS;
	if (!rooms) error(503, 'The rooms are not bound (WS)');
	// The same name `createWebsocketHandle` gives the room the browser joins: the organisation id.
	return { room: rooms.get(rooms.idFromName(locals.org_id)), user: locals.user };
}

/**
 * The request's JSON body (`null` if it is not valid JSON). Anything else than `application/json`
 * is refused (415): a cross-site page can send that only after a CORS preflight this app never
 * grants, so no other site can make a signed-in visitor's browser write here.
 */
export async function jsonBody(event: RequestEvent): Promise<Record<string, unknown> | null> {
	const type = event.request.headers.get('content-type') ?? '';
	if (!/^application\/json\s*(;|$)/i.test(type)) error(415, 'Send JSON (content-type: application/json)');
	const body: unknown = await event.request.json().catch(() => null);
	return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
}
