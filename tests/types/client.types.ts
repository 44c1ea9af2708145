// Type tests for the client's public surface: `npm run typecheck` fails if any `@ts-expect-error`
// below stops being an error, or if a typed use stops compiling.
import { WebsocketClient, type AnyEvent, type ConnectionStatus, type SessionInfo, type UserPresence, type WebsocketEvents } from '../../client/index.js';
import type { TestApi } from '../worker/index.js';

interface Meta {
	user_id: string;
	color: string;
}
interface Events {
	'chat:message': { text: string; at: Date };
	'cursor:move': { x: number; y: number };
}
declare const ws: WebsocketClient<Meta, Events, TestApi>;

// State: typed and read-only.
const status: ConnectionStatus = ws.status;
const sessions: readonly SessionInfo<Meta>[] = ws.sessions;
const users: readonly UserPresence<Meta>[] = ws.users;
const color: string | undefined = ws.users[0]?.meta.color;
(void status, sessions, users, color);
// @ts-expect-error state is read-only
ws.status = 'connected';
// @ts-expect-error
ws.sessions = [];

// Built-in and room events are typed by name.
ws.on('chat:message', (m) => m.at.getTime() + m.text.length);
ws.on('session:connected', (s) => s.meta.color.length + s.num_connections);
ws.on('session:list', (l) => l.sessions.map((s) => s.ws_session_id));
ws.on('ws:disconnected', (e) => e.reconnecting && e.code);
ws.on('ws:connected', (e) => e.reconnected);
ws.on('error', (e) => e.code.length + e.status);
ws.on('entity:updated', (e) => e.entity_type);
ws.once('cursor:move', (c) => c.x + c.y);
ws.on('*', (e) => {
	if (e.event === 'cursor:move') return e.data.x;
	if (e.event === 'chat:message') return e.data.text;
	return undefined;
});
const everything: AnyEvent<WebsocketEvents<Meta, Events>>['event'] = 'ws:warning';
void everything;
// @ts-expect-error no such event
ws.on('chat:mesage', () => {});
// @ts-expect-error the wire's coalesced presence: apps hear each change as session:connected / session:disconnected
ws.on('session:changes', () => {});
// @ts-expect-error the payload has no `y`
ws.on('chat:message', (m) => m.y);

// send: only the room's own events, with their payloads.
void ws.send('cursor:move', { x: 1, y: 2 });
// @ts-expect-error wrong payload
void ws.send('cursor:move', { x: '1', y: 2 });
// @ts-expect-error not one of the room's events
void ws.send('nope', 1);
// @ts-expect-error built-in events are the room's to send
void ws.send('session:list', { sessions: [] });

// rpc: the room's API, pipelinable.
const sum: Promise<number> = ws.rpc.add(1, 2);
const pipelined: Promise<number> = ws.rpc.counter(1).increment(2).value();
(void sum, pipelined);
// @ts-expect-error wrong argument type
void ws.rpc.add('1', 2);
// @ts-expect-error no such method
void ws.rpc.nosuch();

// Defaults: AuthSessionMeta, any event name with unknown payloads.
const plain = new WebsocketClient();
plain.on('session:connected', (s) => s.meta.user_name?.toUpperCase());
void plain.send('anything', { at: new Date() });

// Two directions: what the room sends (`Events`) and what the client sends (`Messages`).
interface Messages {
	typing: { on: boolean };
}
declare const twoWay: WebsocketClient<Meta, Events, TestApi, Messages>;
void twoWay.send('typing', { on: true });
// @ts-expect-error a room event is not something the client sends
void twoWay.send('chat:message', { text: 'x', at: new Date() });
// @ts-expect-error wrong payload
void twoWay.send('typing', { on: 'yes' });
twoWay.on('chat:message', (m) => m.text.length);
// @ts-expect-error a client message is not something the room sends
twoWay.on('typing', () => {});
