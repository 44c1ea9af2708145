import { redirect } from '@sveltejs/kit';
import { roomOf } from '$lib/server/rooms';
import { SESSION_COOKIE } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const { locals } = event;
	if (!locals.user || !locals.org_id) redirect(303, '/');
	// The todo list as it is now; the page keeps it live from there (see $lib/todos.svelte.ts).
	const { room } = roomOf(event);
	return { room: locals.org_id, todos: await room.listTodos() };
};

export const actions: Actions = {
	signout: ({ cookies, url }) => {
		cookies.delete(SESSION_COOKIE, { path: '/', secure: url.protocol === 'https:' });
		redirect(303, '/');
	},
};
