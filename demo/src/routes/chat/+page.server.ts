import { redirect } from '@sveltejs/kit';
import { roomOf } from '$lib/server/rooms';
import { SESSION_COOKIE } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const { locals } = event;
	if (!locals.user || !locals.org_id) redirect(303, '/');
	// The todo list as it is now, and where the room's change feed stood just before: the page
	// connects with `since: head`, so whatever changes between this load and its socket is replayed
	// (see $lib/todos.svelte.ts). The head is read first, so nothing can fall between the two.
	const { room } = roomOf(event);
	const head = await room.changeHead();
	return { room: locals.org_id, todos: await room.listTodos(), head };
};

export const actions: Actions = {
	signout: ({ cookies, url }) => {
		cookies.delete(SESSION_COOKIE, { path: '/', secure: url.protocol === 'https:' });
		redirect(303, '/');
	},
};
