import { fail, redirect } from '@sveltejs/kit';
import { SESSION_COOKIE, readSignIn, sealSession } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals }) => {
	if (locals.user) redirect(303, '/chat');
};

export const actions: Actions = {
	/** Signs in: a fresh user id and session id, sealed into the session cookie. */
	default: async ({ request, cookies, platform, url }) => {
		const form = await request.formData();
		const chosen = readSignIn(form);
		if ('problem' in chosen) return fail(400, { problem: chosen.problem, name: String(form.get('name') ?? ''), org: String(form.get('org') ?? '') });
		const secret = platform?.env.SESSION_SECRET;
		if (!secret) return fail(500, { problem: 'SESSION_SECRET is not set.', name: chosen.name, org: chosen.org });

		const sealed = await sealSession({ uid: crypto.randomUUID(), name: chosen.name, org: chosen.org, jti: crypto.randomUUID() }, secret);
		cookies.set(SESSION_COOKIE, sealed, {
			path: '/',
			httpOnly: true,
			sameSite: 'lax',
			// Plain http on 127.0.0.1 in development; https anywhere real.
			secure: url.protocol === 'https:',
			maxAge: 60 * 60 * 24 * 7,
		});
		redirect(303, '/chat');
	},
};
