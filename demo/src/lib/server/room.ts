/**
 * The chat room: one Durable Object per organisation. Browsers reach it only through `ChatApi`'s
 * methods (`post`, `history`); presence (`session:*` events) comes with `WebsocketServer`.
 *
 * It also keeps the organisation's todo list in its SQLite storage. Browsers cannot touch it over
 * the socket: SvelteKit endpoints (`src/routes/chat/todos/`) call `listTodos`, `addTodo`,
 * `toggleTodo` and `removeTodo` through Workers RPC on the namespace stub, and every write reports
 * itself with `entityChanged`, which numbers it, logs it, and sends it to every open page
 * (`ws.databaseHooks()` on the client) — replaying it later to pages that were offline.
 *
 * This module is exported from the app's Worker (see svelte.config.js) and bundled by wrangler, so
 * it imports only packages and relative modules, no `$lib` aliases.
 */
import { RoomApi, RoomError, WebsocketServer } from '@delightstack/websocket/worker';
import { MAX_MESSAGE_LENGTH, type ChatEvents, type ChatMessage, type ChatMeta } from '../chat.js';
import { TODO_ENTITY, todoTitle, type Todo } from '../todos.js';

/** How many messages a newcomer sees. */
const HISTORY_LENGTH = 50;

export class ChatApi extends RoomApi<ChatRoom> {
	/** Posts a message to everyone in the room (the sender included) and returns it. */
	post(text: string): ChatMessage {
		if (typeof text !== 'string') throw new RoomError('bad_request', 'A message is text', 400);
		const trimmed = text.trim();
		if (trimmed === '') throw new RoomError('bad_request', 'A message cannot be empty', 400);
		if (trimmed.length > MAX_MESSAGE_LENGTH) {
			throw new RoomError('payload_too_large', `A message is at most ${MAX_MESSAGE_LENGTH} characters`, 413);
		}
		const { user_id = 'unknown', user_name = 'Someone' } = this.session.meta;
		return this.room.post({ id: crypto.randomUUID(), text: trimmed, user_id, user_name, at: new Date() });
	}

	/** The latest messages, oldest first. */
	history(): ChatMessage[] {
		return this.room.history();
	}
}

export class ChatRoom extends WebsocketServer<ChatMeta, ChatEvents> {
	static override api = ChatApi;

	constructor(ctx: DurableObjectState, env: unknown) {
		super(ctx, env);
		ctx.storage.sql.exec(
			'CREATE TABLE IF NOT EXISTS messages (id TEXT PRIMARY KEY, text TEXT NOT NULL, user_id TEXT NOT NULL, user_name TEXT NOT NULL, at INTEGER NOT NULL)',
		);
		ctx.storage.sql.exec(
			'CREATE TABLE IF NOT EXISTS todos (id TEXT PRIMARY KEY, title TEXT NOT NULL, done INTEGER NOT NULL, created_by TEXT NOT NULL, created_at INTEGER NOT NULL)',
		);
	}

	/** Stores a message and broadcasts it. Also callable from server code through the namespace stub. */
	post(message: ChatMessage): ChatMessage {
		this.ctx.storage.sql.exec(
			'INSERT INTO messages (id, text, user_id, user_name, at) VALUES (?, ?, ?, ?, ?)',
			message.id,
			message.text,
			message.user_id,
			message.user_name,
			message.at.getTime(),
		);
		this.broadcast('chat:message', message);
		return message;
	}

	history(): ChatMessage[] {
		const rows = this.ctx.storage.sql
			.exec<{ id: string; text: string; user_id: string; user_name: string; at: number }>(
				'SELECT id, text, user_id, user_name, at FROM messages ORDER BY at DESC, rowid DESC LIMIT ?',
				HISTORY_LENGTH,
			)
			.toArray();
		return rows.reverse().map((row) => ({ ...row, at: new Date(row.at) }));
	}

	// ---------------------------------------------------------------------------------------------
	// The todo list: server-side methods (Workers RPC from the SvelteKit endpoints).
	//
	// Each write stores the row, then reports it with `entityChanged` in the same method, with no
	// `await` in between: the Durable Object commits both together, so the change log never holds a
	// change that did not happen, nor misses one that did.

	/** Every todo, oldest first. */
	listTodos(): Todo[] {
		return this.ctx.storage.sql.exec<TodoRow>('SELECT id, title, done, created_by, created_at FROM todos ORDER BY created_at').toArray().map(fromRow);
	}

	addTodo(title: string, created_by: string): Todo {
		const clean = todoTitle(title);
		if (clean === null) throw new RoomError('bad_request', 'A todo needs a title of 1 to 200 characters', 400);
		// Strictly increasing, so the list has one order everywhere (the clock may not move between requests).
		const last = this.ctx.storage.sql.exec<{ last: number | null }>('SELECT max(created_at) AS last FROM todos').one().last ?? 0;
		const todo: Todo = { id: crypto.randomUUID(), title: clean, done: false, created_by, created_at: Math.max(Date.now(), last + 1) };
		this.ctx.storage.sql.exec(
			'INSERT INTO todos (id, title, done, created_by, created_at) VALUES (?, ?, ?, ?, ?)',
			todo.id,
			todo.title,
			0,
			todo.created_by,
			todo.created_at,
		);
		this.entityChanged('created', TODO_ENTITY, todo.id, todo);
		return todo;
	}

	/** Marks a todo done or not done; `null` if there is no such todo. */
	toggleTodo(id: string, done: boolean): Todo | null {
		const row = this.ctx.storage.sql
			.exec<TodoRow>('UPDATE todos SET done = ? WHERE id = ? RETURNING id, title, done, created_by, created_at', done ? 1 : 0, id)
			.toArray()[0];
		if (!row) return null;
		const todo = fromRow(row);
		this.entityChanged('updated', TODO_ENTITY, todo.id, todo);
		return todo;
	}

	/** Removes a todo; `false` if there was no such todo. */
	removeTodo(id: string): boolean {
		const removed = this.ctx.storage.sql.exec('DELETE FROM todos WHERE id = ? RETURNING id', id).toArray().length > 0;
		if (removed) this.entityChanged('deleted', TODO_ENTITY, id);
		return removed;
	}
}

type TodoRow = { id: string; title: string; done: number; created_by: string; created_at: number };

function fromRow(row: TodoRow): Todo {
	return { id: row.id, title: row.title, done: row.done === 1, created_by: row.created_by, created_at: row.created_at };
}
