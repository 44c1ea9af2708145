// README, "Database sync": the page.
import { WebsocketClient, type DatabaseHooks } from '@delightstack/websocket/client';
import type { ChatApi, ChatEvents, ChatMeta } from '../server/room';

/** Stands in for the database layer's client (not part of this package). */
declare class DatabaseClient {
	constructor(options: { hooks: DatabaseHooks });
	refresh(): void;
}
declare const ws: WebsocketClient<ChatMeta, ChatEvents, ChatApi>;
declare const org_id: string;
declare const data: { head: number };

// the page
const db = new DatabaseClient({ hooks: ws.databaseHooks() });
ws.on('entity:resync', () => db.refresh());
await ws.connect(org_id, { since: data.head }); // replays whatever changed since the load

export { db };
