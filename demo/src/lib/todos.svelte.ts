/**
 * `LiveTodos`: a tiny reactive store standing in for `DatabaseClient`. It starts from the list the
 * page loaded on the server and keeps it live through `ws.databaseHooks()`, the same hooks a
 * `DatabaseClient` takes (`new DatabaseClient({ hooks: ws.databaseHooks() })`):
 *
 * - every change the room reports (`entityChanged` after a write, from any browser) arrives once,
 *   in order, through `onSubscribe`, and is applied: a create or update puts the todo's data in,
 *   a delete takes it out;
 * - after a dropped connection the client asks the room for what it missed, so a page that was
 *   offline catches up by itself, without refetching;
 * - the page connects with `since` set to the room's change head read just before the list, so
 *   changes made between the server-side load and the socket are replayed too;
 * - the store refetches the whole list only when the feed cannot vouch for it: on `entity:resync`
 *   (what was missed is older than the room's change log).
 */
import type { DatabaseEntityChange, DatabaseHooks } from '@delightstack/websocket/client';
import { TODO_ENTITY, type Todo } from './todos.js';

/** What `LiveTodos` needs of a `WebsocketClient`. */
export interface TodoFeed {
	databaseHooks(): DatabaseHooks;
	on(event: 'entity:resync', callback: () => void): () => void;
}

export class LiveTodos {
	#todos = $state.raw<readonly Todo[]>([]);
	#remaining = $derived(this.#todos.filter((todo) => !todo.done).length);
	/** Changes received while a refetch is under way, to re-apply over its (possibly older) answer. */
	#duringRefetch: DatabaseEntityChange[] | null = null;

	constructor(initial: readonly Todo[]) {
		this.#todos = sorted(initial);
	}

	/** The todos, oldest first (reactive). */
	get list(): readonly Todo[] {
		return this.#todos;
	}

	/** How many are not done yet (reactive). */
	get remaining(): number {
		return this.#remaining;
	}

	/**
	 * Keeps the list live from `ws`'s change feed until the returned function is called. `fetchAll`
	 * loads the whole list (used only when the feed cannot vouch for it); `onError` hears when that
	 * fails.
	 */
	follow(ws: TodoFeed, fetchAll: () => Promise<Todo[]>, onError: (error: unknown) => void): () => void {
		const hooks = ws.databaseHooks();
		const unsubscribe = hooks.onSubscribe((change) => {
			this.#duringRefetch?.push(change);
			this.apply(change);
		});
		const refetch = async () => {
			const seen: DatabaseEntityChange[] = [];
			this.#duringRefetch = seen;
			try {
				const todos = await fetchAll();
				// A newer refetch started meanwhile: its answer wins.
				if (this.#duringRefetch !== seen) return;
				this.#todos = sorted(todos);
				// The answer may predate changes already applied; they come after it, so apply them again.
				for (const change of seen) this.apply(change);
			} catch (error) {
				onError(error);
			} finally {
				if (this.#duringRefetch === seen) this.#duringRefetch = null;
			}
		};
		const offResync = ws.on('entity:resync', () => void refetch());
		return () => {
			unsubscribe();
			offResync();
			this.#duringRefetch = null;
		};
	}

	/** Applies one change from the feed. Idempotent: applying a change twice changes nothing. */
	apply(change: DatabaseEntityChange): void {
		if (change.entity_type !== TODO_ENTITY) return;
		const rest = this.#todos.filter((todo) => todo.id !== change.id);
		if (change.type === 'delete') {
			if (rest.length !== this.#todos.length) this.#todos = rest;
		} else if (change.data) {
			this.#todos = sorted([...rest, change.data as unknown as Todo]);
		}
	}
}

function sorted(todos: readonly Todo[]): Todo[] {
	return [...todos].sort((a, b) => a.created_at - b.created_at);
}
