import type { Handle } from '@sveltejs/kit';
import { sequence } from '@sveltejs/kit/hooks';
import { createWebsocketHandle } from '@delightstack/websocket/server';
import { SESSION_COOKIE, localsFor, openSession } from '$lib/server/session';

/** Stands in for `@delightstack/auth`'s handle: the session cookie becomes `locals`. */
const authHandle: Handle = async ({ event, resolve }) => {
	const secret = event.platform?.env.SESSION_SECRET;
	const session = secret ? await openSession(event.cookies.get(SESSION_COOKIE), secret) : null;
	Object.assign(event.locals, localsFor(session));
	return resolve(event);
};

/**
 * Upgrades on /api/websocket?room=<org> join that organisation's chat room. The default
 * authorization reads the locals above: signed in, and the room is the user's organisation.
 */
const websocketHandle = createWebsocketHandle({ getServer: (event) => event.platform?.env.WS });

export const handle = sequence(authHandle, websocketHandle);
