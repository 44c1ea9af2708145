// README, "Rooms past one Durable Object: shards": one room over 10 Durable Objects.
import { WebsocketServer } from '@delightstack/websocket/worker';
import type { ChatEvents, ChatMeta } from '../server/room';

export class StadiumRoom extends WebsocketServer<ChatMeta, ChatEvents> {
	// `binding`: this class's own Durable Object binding (wrangler.toml), through which shards reach each other.
	static override options = { shards: { count: 10, binding: 'STADIUM' }, presence: { window: 50 } };
}
