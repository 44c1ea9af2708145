/**
 * The demo's sign-in: a name and an organisation, kept in an HMAC-signed cookie, turned into
 * `locals` in the shape `@delightstack/auth` gives them (`session`, `user`, `org_id`, `org`). That
 * shape is what `createWebsocketHandle`'s default authorization reads, so the handle needs no
 * configuration beyond where the rooms are.
 *
 * Not an auth system: no passwords, anyone may claim any name. But the cookie cannot be edited
 * without the secret, so nobody can claim to be signed in to an organisation they did not choose.
 */

export const SESSION_COOKIE = 'demo_session';

/** Everything the cookie carries. */
export interface DemoSession {
	/** User id: a fresh one per sign-in, so two people with the same name are two users. */
	uid: string;
	name: string;
	/** The one organisation this user belongs to; its id is also the chat room's name. */
	org: string;
	/** Session id, like a JWT's `jti`. */
	jti: string;
}

/** The `@delightstack/auth` locals this demo fills (the subset the websocket handle reads). */
export interface DemoLocals {
	session: { uid: string; name: string; jti: string; org: Record<string, { p: number; n: string }> } | null;
	user: { id: string; name: string; user_auth_id: string; user_session_id: string } | null;
	org_id: string | null;
	org: { id: string; name: string; permissions: number } | null;
}

/** Permission bits a member gets in their organisation. The demo has one kind of member: 1 = chat. */
export const MEMBER_PERMISSIONS = 1;

export function localsFor(session: DemoSession | null): DemoLocals {
	if (!session) return { session: null, user: null, org_id: null, org: null };
	return {
		session: { uid: session.uid, name: session.name, jti: session.jti, org: { [session.org]: { p: MEMBER_PERMISSIONS, n: session.org } } },
		user: { id: session.uid, name: session.name, user_auth_id: `demo:${session.uid}`, user_session_id: session.jti },
		org_id: session.org,
		org: { id: session.org, name: session.org, permissions: MEMBER_PERMISSIONS },
	};
}

/** `base64url(json).base64url(hmac)` */
export async function sealSession(session: DemoSession, secret: string): Promise<string> {
	const payload = base64url(new TextEncoder().encode(JSON.stringify(session)));
	return `${payload}.${base64url(await sign(payload, secret))}`;
}

/** The session in a cookie, or null if there is none or it was not signed with `secret`. */
export async function openSession(cookie: string | undefined, secret: string): Promise<DemoSession | null> {
	if (!cookie) return null;
	const [payload, signature, extra] = cookie.split('.');
	if (!payload || !signature || extra !== undefined) return null;
	const key = await hmacKey(secret);
	let valid = false;
	try {
		valid = await crypto.subtle.verify('HMAC', key, fromBase64url(signature), new TextEncoder().encode(payload));
	} catch {
		return null;
	}
	if (!valid) return null;
	try {
		const session = JSON.parse(new TextDecoder().decode(fromBase64url(payload))) as Partial<DemoSession>;
		const fields = [session.uid, session.name, session.org, session.jti];
		return fields.every((f) => typeof f === 'string' && f !== '') ? (session as DemoSession) : null;
	} catch {
		return null;
	}
}

/** Checks what a person typed on the sign-in form. */
export function readSignIn(form: FormData): { name: string; org: string } | { problem: string } {
	const name = String(form.get('name') ?? '')
		.trim()
		.replace(/\s+/g, ' ');
	const org = String(form.get('org') ?? '')
		.trim()
		.toLowerCase()
		.replace(/[^a-z0-9]+/g, '-')
		.replace(/^-|-$/g, '');
	if (name === '' || name.length > 40) return { problem: 'Choose a name of 1 to 40 characters.' };
	if (org === '' || org.length > 40) return { problem: 'Choose an organisation: letters and digits, up to 40.' };
	return { name, org };
}

async function sign(payload: string, secret: string): Promise<Uint8Array<ArrayBuffer>> {
	return new Uint8Array(await crypto.subtle.sign('HMAC', await hmacKey(secret), new TextEncoder().encode(payload)));
}

function hmacKey(secret: string): Promise<CryptoKey> {
	return crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

function base64url(bytes: Uint8Array): string {
	let binary = '';
	for (const byte of bytes) binary += String.fromCharCode(byte);
	return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
	const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
	return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
