/** What the chat room and the chat page agree on. */
import type { AuthSessionMeta } from '@delightstack/websocket/client';

/** One chat message, as stored by the room and delivered to every member. */
export interface ChatMessage {
	id: string;
	text: string;
	user_id: string;
	user_name: string;
	/** Event payloads carry Dates as Dates (superjson-compatible codec). */
	at: Date;
}

/** The room's own events (besides `session:*`, which every room sends). */
export type ChatEvents = {
	'chat:message': ChatMessage;
};

/** What the handle's default authorization puts in each session. */
export type ChatMeta = AuthSessionMeta;

/** Longest message the room accepts. */
export const MAX_MESSAGE_LENGTH = 2000;
