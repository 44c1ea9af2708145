// Type tests for presence in both modes: `npm run typecheck` fails if any `@ts-expect-error` below
// stops being an error, or if a typed use stops compiling.
import { WebsocketClient, type PresenceMember, type PresenceUpdate, type RoomPresence } from '../../client/index.js';
import { RoomClient } from '../../client/headless.js';
import { WebsocketServer } from '../../do/index.js';
import type { TestApi } from '../worker/index.js';

interface Meta {
	user_id: string;
	color: string;
}
declare const ws: WebsocketClient<Meta, Record<string, never>, TestApi>;

// `ws.presence`: typed by Meta, read-only.
const presence: RoomPresence<Meta> = ws.presence;
const mode: 'full' | 'window' = presence.mode;
const count: number = presence.count + presence.sessionCount;
const members: readonly PresenceMember<Meta>[] = presence.members;
const color: string | undefined = presence.members[0]?.meta.color;
const tabs: number | undefined = presence.members[0]?.sessions.length;
const more: Promise<number> = presence.more(20);
(void mode, count, members, color, tabs, more);
// @ts-expect-error read-only
presence.count = 3;
// @ts-expect-error read-only
ws.presence = presence;
// @ts-expect-error a page size is a number
void presence.more('20');

// The headless client has the same.
declare const bot: RoomClient<Meta>;
const same: RoomPresence<Meta> = bot.presence;
void same;

// Window updates are typed events too.
ws.on('session:update', (u) => u.users + u.sessions + (u.joined?.meta.color.length ?? 0) + (u.entered?.length ?? 0) + (u.gone?.length ?? 0));
ws.on('session:list', (l) => l.window?.next.length);
const update: PresenceUpdate<Meta> = { users: 1, sessions: 1 };
void update;

// The room option: 'full' or a window.
export class Lobby extends WebsocketServer<Meta> {
	static override options = { presence: { window: 50, pageSize: 200 } };
}
export class Small extends WebsocketServer<Meta> {
	static override options = { presence: 'full' as const };
}
// @ts-expect-error there is no 'auto' mode
export class Auto extends WebsocketServer<Meta> {
	static override options = { presence: 'auto' as const };
}
// @ts-expect-error a window needs its size
export class NoWindow extends WebsocketServer<Meta> {
	static override options = { presence: { pageSize: 10 } };
}
