import { RoomApi, RoomError, WebsocketServer } from '@delightstack/websocket/worker';

/** What every member of a room sees of the others (your `authorize` in hooks.server.ts decides it). */
export type ChatMeta = { user_id: string; user_name: string };

/** The events the room sends, and their payloads. */
export type ChatEvents = { 'chat:message': { text: string; from: string; at: Date } };

/** What browsers may call. Nothing else on the room is reachable from a browser. */
export class ChatApi extends RoomApi<ChatRoom> {
	send(text: string) {
		if (!text.trim()) throw new RoomError('empty', 'Say something', 400);
		this.room.broadcast('chat:message', { text, from: this.session.meta.user_name, at: new Date() });
	}
}

/** One Durable Object per room name; presence comes with it. */
export class ChatRoom extends WebsocketServer<ChatMeta, ChatEvents> {
	static override api = ChatApi;
}
