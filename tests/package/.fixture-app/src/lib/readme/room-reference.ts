// README, "The room": a room with every hook, typed both ways.
import { WebsocketServer, type MessageOf, type RoomMetric, type Session } from '@delightstack/websocket/worker';
import { ChatApi, type ChatEvents, type ChatMeta } from '../server/room';

type Env = { WS: DurableObjectNamespace };

type ChatMessages = { typing: { on: boolean } };

export class ChatRoom extends WebsocketServer<ChatMeta, ChatEvents, Env, ChatMessages> {
	static override api = ChatApi;
	static override options = { eventRateLimit: { capacity: 60, refillEveryMs: 1000, prefixes: ['cursor:'] } };

	override onConnect(session: Session<ChatMeta>) {}
	override onDisconnect(session: Session<ChatMeta>) {}
	override onMessage(session: Session<ChatMeta>, ...[event, data]: MessageOf<ChatMessages>) {
		if (event === 'typing') return data.on; // `data` is narrowed by the name
		return 'ack'; // resolves the sender's ws.send(…) promise
	}
	override onMetric(metric: RoomMetric) {} // batches, refusals, sockets turned away (see Security)
}
