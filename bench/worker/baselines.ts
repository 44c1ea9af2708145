/**
 * The baselines, no library: the plain protocol of `bench/shared/plain.ts` (a frame starting with
 * `b` is broadcast as received to every socket, anything else is echoed), on the runtime's
 * hibernation API alone (`bare`) and on partyserver (`party`).
 */
import { DurableObject } from 'cloudflare:workers';
import { Server, type Connection, type WSMessage } from 'partyserver';
import { BROADCAST } from '../shared/plain.js';

const B = BROADCAST.charCodeAt(0);

/** Sends `frame` to every socket of the room as it is. */
function broadcastRaw(ctx: DurableObjectState, frame: string): void {
	for (const socket of ctx.getWebSockets()) {
		try {
			socket.send(frame);
		} catch {
			// A socket that is closing: the others still get theirs.
		}
	}
}

/** Accepts the upgrade with hibernation. */
function accept(ctx: DurableObjectState): Response {
	const { 0: client, 1: server } = new WebSocketPair();
	ctx.acceptWebSocket(server);
	return new Response(null, { status: 101, webSocket: client });
}

/** No library: accept with hibernation, echo or broadcast. Nothing else happens per frame. */
export class BareRoom extends DurableObject {
	override async fetch(request: Request): Promise<Response> {
		if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return new Response('upgrade required', { status: 426 });
		return accept(this.ctx);
	}

	override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
		if (typeof message === 'string' && message.charCodeAt(0) === B) return broadcastRaw(this.ctx, message);
		ws.send(message);
	}

	override webSocketClose(ws: WebSocket, code: number, reason: string): void {
		try {
			ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
		} catch {
			// Already closed.
		}
	}
}

/**
 * The idle scenarios' primer (`scenarios/idle.ts`): a room that echoes, of a class no measured room
 * shares code with after the idle (its socket joined before it, through `accept`), so waking it
 * warms what every room shares (the runtime's paths) and none of the implementations compared.
 */
export class PrimerRoom extends DurableObject {
	override fetch(): Response {
		return accept(this.ctx);
	}

	override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
		ws.send(message);
	}
}

/** Diagnostic (`--impl bare-async`): the bare room, but its handler is `async` and awaits once before it answers. */
export class BareAsyncRoom extends BareRoom {
	override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
		await null;
		super.webSocketMessage(ws, message);
	}
}

/** partyserver with hibernation, doing exactly what the bare room does. */
export class PartyRoom extends Server {
	static override options = { hibernate: true };

	override onMessage(connection: Connection, message: WSMessage): void {
		if (typeof message === 'string' && message.charCodeAt(0) === B) return this.broadcast(message);
		connection.send(message);
	}
}
