// README, "Server-side API": Workers RPC on the namespace stub, from server code.
import type { EntityChangeInput } from '@delightstack/websocket/worker';
import type { ChatEvents } from '../server/room';

export async function serverApi(
	platform: App.Platform,
	org_id: string,
	sessionId: string,
	data: ChatEvents['chat:message'],
	id: string,
	sparse: unknown,
	changes: EntityChangeInput[],
) {
const room = platform.env.WS.get(platform.env.WS.idFromName(org_id));
await room.broadcast('chat:message', data, { exclude: sessionId });
await room.sendTo(sessionId, 'chat:message', data);            // or { session } / { user: user_id }
await room.getSessions();
await room.metrics();                                          // counters since the room woke: frames, batches, refusals
await room.kick(sessionId, 'reason');                          // close 4001: the client does not come back
await room.entityChanged('updated', 'todo', id, data, sparse); // see "Database sync"
await room.entitiesChanged(changes);                           // one RPC per transaction
}
