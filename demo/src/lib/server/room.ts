/**
 * The chat room: one Durable Object per organisation. Browsers reach it only through `ChatApi`'s
 * methods (`post`, `history`); presence (`session:*` events) comes with `WebsocketServer`.
 *
 * This module is exported from the app's Worker (see svelte.config.js) and bundled by wrangler, so
 * it imports only packages and relative modules, no `$lib` aliases.
 */
import { RoomApi, RoomError, WebsocketServer } from '@delightstack/websocket/worker';
import { MAX_MESSAGE_LENGTH, type ChatEvents, type ChatMessage, type ChatMeta } from '../chat.js';

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
}
