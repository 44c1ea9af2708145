/**
 * Who may join which room. The default reads the locals `@delightstack/auth`'s handle populates;
 * apps with other auth pass their own `authorize` to `createWebsocketHandle`.
 */
import type { RequestEvent } from '@sveltejs/kit';
import type { AuthSessionMeta } from '../rpc/types.js';
import { refuse } from './refusal.js';

/** What an `authorize` returns to let a socket in: the metadata the room will see for it. */
export interface Authorization<Meta> {
	/**
	 * Stored with the socket (it survives hibernation) and shown to everyone in the room through
	 * presence, so keep it small (under ~15 KB as JSON) and free of secrets.
	 */
	meta: Meta;
}

/**
 * Decides whether the user behind a socket may join `room`. It gets the SvelteKit `RequestEvent`
 * (`createWebsocketHandle`), or the `Request` (`handleUpgrade` in a plain Worker).
 *
 * - return `{ meta }` to let the socket in with that metadata;
 * - return nothing (`undefined`/`null`) to refuse with 401: nobody is signed in;
 * - throw `refuse(403, 'Not your room')` (or, in SvelteKit, `error(403, 'Not your room')`; any
 *   status 400–599) to refuse with that status and message.
 *
 * May be async. Runs only for upgrades that passed the `Origin` check and named a well-formed room.
 */
export type Authorize<Meta, Context = RequestEvent> = (
	context: Context,
	room: string,
) => Authorization<Meta> | null | undefined | Promise<Authorization<Meta> | null | undefined>;

/**
 * The part of `@delightstack/auth`'s `AuthLocals` the default authorization reads. Any auth that
 * fills `event.locals` with this shape works the same way.
 */
export interface AuthLocalsLike {
	/** The verified session token; its `org` record lists every organisation the user belongs to. */
	session: { org?: Record<string, { p?: number } | undefined> } | null;
	user: {
		id: string;
		name?: string;
	} | null;
	/** The organisation this request is about, already checked against the session by the auth handle. */
	org_id?: string | null;
	org?: { id?: string; permissions?: number } | null;
}

/**
 * The default: a room is an organisation, and a signed-in user may join the rooms of the
 * organisations they belong to.
 *
 * - no `locals.session` or `locals.user` → 401;
 * - `room` is one of `locals.session.org`'s keys (the signed token's membership list) → allowed
 *   with that organisation's permission bits;
 * - otherwise `room` equals `locals.org_id` and `locals.org` is set (the auth handle only sets it for
 *   an organisation in the session) → allowed with `locals.org.permissions`;
 * - anything else → 403.
 *
 * Meta is `{user_id, user_name, permission}` and nothing more: every member of the room sees every
 * other member's meta through presence, so identifiers of the user's login or session
 * (`user_auth_id`, `user_session_id`) are left out. To show more, pass your own `authorize` and
 * return the meta you mean to share.
 */
export function authorizeFromAuthLocals(event: RequestEvent, room: string): Authorization<AuthSessionMeta> | undefined {
	const locals = event.locals as Partial<AuthLocalsLike>;
	const user = locals.user;
	if (!locals.session || !user || typeof user.id !== 'string' || user.id === '') return undefined;

	const permission = permissionIn(locals, room);
	if (permission === undefined) refuse(403, `You are not a member of the room "${room}"`);

	return { meta: { user_id: user.id, user_name: user.name, permission } };
}

/** The user's permission bits in `room`, or undefined when they are not a member. */
function permissionIn(locals: Partial<AuthLocalsLike>, room: string): number | undefined {
	const memberships = locals.session?.org;
	if (memberships && typeof memberships === 'object' && Object.hasOwn(memberships, room)) {
		const membership = memberships[room];
		if (membership) return typeof membership.p === 'number' ? membership.p : 0;
	}
	if (locals.org_id === room && locals.org) {
		return typeof locals.org.permissions === 'number' ? locals.org.permissions : 0;
	}
	return undefined;
}
