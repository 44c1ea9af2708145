// README, "Presence in big rooms": a room that sends a window of members instead of everyone.
import { WebsocketServer } from '@delightstack/websocket/worker';
import type { ChatEvents, ChatMeta } from '../server/room';

export class LobbyRoom extends WebsocketServer<ChatMeta, ChatEvents> {
	static override options = { presence: { window: 50 } }; // counts + the first 50 members; more on demand
}
