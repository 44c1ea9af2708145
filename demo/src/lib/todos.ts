/** What the room's todo list, its endpoints and the page agree on. */

/** One todo, as the room stores it and sends it in `entity:*` changes (entity type `'todo'`). */
export interface Todo {
	id: string;
	title: string;
	done: boolean;
	/** Who added it (their name at the time). */
	created_by: string;
	/** Milliseconds since the epoch, unique within the room: the list is shown oldest first. */
	created_at: number;
}

/** The `entity_type` todos carry in `entityChanged` and in the client's change feed. */
export const TODO_ENTITY = 'todo';

/** Longest todo title the room accepts. */
export const MAX_TODO_LENGTH = 200;

/** A todo title from untrusted input, trimmed; `null` when it is not an acceptable one. */
export function todoTitle(input: unknown): string | null {
	if (typeof input !== 'string') return null;
	const title = input.trim();
	return title === '' || title.length > MAX_TODO_LENGTH ? null : title;
}
