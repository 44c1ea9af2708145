/** One todo: `PATCH {done}` marks it done or not, `DELETE` removes it. 404 when it is gone. */
import { error, json } from '@sveltejs/kit';
import { jsonBody, roomOf } from '$lib/server/rooms';
import type { RequestHandler } from './$types';

export const PATCH: RequestHandler = async (event) => {
	const { room } = roomOf(event);
	const body = await jsonBody(event);
	const done = body?.done;
	if (typeof done !== 'boolean') error(400, 'Send {"done": true | false}');
	const todo = await room.toggleTodo(event.params.id, done);
	if (!todo) error(404, 'No such todo');
	return json(todo);
};

export const DELETE: RequestHandler = async (event) => {
	const { room } = roomOf(event);
	if (!(await room.removeTodo(event.params.id))) error(404, 'No such todo');
	return new Response(null, { status: 204 });
};
