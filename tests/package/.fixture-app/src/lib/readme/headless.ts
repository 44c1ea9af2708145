// README, "Outside Svelte".
import type { ChatApi, ChatEvents, ChatMeta } from '../server/room';

declare const org_id: string;

import { RoomClient } from '@delightstack/websocket/headless';

const client = new RoomClient<ChatMeta, ChatEvents, ChatApi>({ url: 'wss://app.example.com/api/websocket' });
await client.connect(org_id);
await client.rpc.send('hello from a bot');

export { client };
