/**
 * The todo list's HTTP API: `GET` lists it, `POST {title}` adds one. The room stores the todo and
 * tells every open page about it (`entityChanged`); the response is for the caller's information,
 * the page itself learns of the change from the feed like everyone else.
 */
import { error, json } from '@sveltejs/kit';
import { jsonBody, roomOf } from '$lib/server/rooms';
import { MAX_TODO_LENGTH, todoTitle } from '$lib/todos';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
	const { room } = roomOf(event);
	return json(await room.listTodos());
};

export const POST: RequestHandler = async (event) => {
	const { room, user } = roomOf(event);
	const body = await jsonBody(event);
	const title = todoTitle(body?.title);
	if (title === null) error(400, `A todo needs a title of 1 to ${MAX_TODO_LENGTH} characters`);
	return json(await room.addTodo(title, user.name), { status: 201 });
};
