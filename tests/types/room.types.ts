// Type tests for the room and the handle: `npm run typecheck` fails if any `@ts-expect-error` below
// stops being an error, or any line without one stops compiling.
import { RoomApi, RoomError, WebsocketServer, type MessageOf, type Session } from '../../do/index.js';
import { createWebsocketHandle, handleUpgrade, type RoomNamespace } from '../../kit/index.js';
import type { AuthSessionMeta } from '../../rpc/types.js';

type Meta = { user_id: string; user_name: string };
type Events = { 'chat:message': { text: string; from: string } };

class ChatApi extends RoomApi<ChatRoom> {
	send(text: string) {
		// `this.session.meta` is the room's Meta, and `this.room` the room with its events.
		const from: string = this.session.meta.user_name;
		this.room.broadcast('chat:message', { text, from });
		// @ts-expect-error no such event
		this.room.broadcast('chat:nope', { text, from });
		// @ts-expect-error wrong payload for the event
		this.room.broadcast('chat:message', { text: 1, from });
		// @ts-expect-error Meta has no such field
		void this.session.meta.user_auth_id;
		if (!text) throw new RoomError('empty', 'Say something', 400);
		return from.length;
	}
}

class ChatRoom extends WebsocketServer<Meta, Events> {
	static override api = ChatApi;
	override onConnect(session: Session<Meta>) {
		const name: string = session.meta.user_name;
		void name;
	}
	override onMessage(session: Session<Meta>, event: string, data: unknown) {
		this.sendTo({ user: session.meta.user_id }, 'chat:message', { text: String(data), from: event });
		// @ts-expect-error wrong payload for the event
		this.sendTo(session.ws_session_id, 'chat:message', { text: 1 });
		return 'ack';
	}
}

// A RoomApi without a room type still knows the default meta, and nothing about it is `any`.
class PlainApi extends RoomApi {
	who() {
		const meta: AuthSessionMeta = this.session.meta;
		// @ts-expect-error the default meta has no such field (no `any` leaks through)
		return meta.secret;
	}
}

class PlainRoom extends WebsocketServer {
	static override api = PlainApi;
}

class NotAnApi {
	send() {}
}

// @ts-expect-error `api` must be a RoomApi subclass
class BadRoom extends WebsocketServer {
	static override api = NotAnApi;
}

declare const ns: RoomNamespace;

// The handle's authorize returns the handle's Meta.
createWebsocketHandle<Meta>({
	getServer: () => ns,
	authorize: (_event, room) => ({ meta: { user_id: room, user_name: 'Ann' } }),
});
createWebsocketHandle<Meta>({
	getServer: () => ns,
	// @ts-expect-error meta is missing user_name
	authorize: () => ({ meta: { user_id: 'a' } }),
});
createWebsocketHandle({
	// @ts-expect-error getServer must return a namespace
	getServer: () => 'WS',
});

void handleUpgrade;
void [ChatRoom, PlainRoom, BadRoom];

// `Messages`: what browsers send, narrowed by name in `onMessage`.
type Messages = { typing: { on: boolean }; 'cursor:move': { x: number; y: number } };
class TypedRoom extends WebsocketServer<Meta, Events, unknown, Messages> {
	override onMessage(session: Session<Meta>, ...[event, data]: MessageOf<Messages>) {
		if (event === 'typing') {
			const on: boolean = data.on;
			return on;
		}
		const x: number = data.x;
		// @ts-expect-error `cursor:move` has no `on`
		return data.on ?? x + session.meta.user_name.length;
	}
}
void TypedRoom;
