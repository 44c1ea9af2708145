import { redirect } from '@sveltejs/kit';
import { SESSION_COOKIE } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals }) => {
	if (!locals.user || !locals.org_id) redirect(303, '/');
	return { room: locals.org_id };
};

export const actions: Actions = {
	signout: ({ cookies, url }) => {
		cookies.delete(SESSION_COOKIE, { path: '/', secure: url.protocol === 'https:' });
		redirect(303, '/');
	},
};
