/**
 * Diagnostic rooms (worker side): the library taken apart, so the harness can show which part of
 * its per-frame cost comes from where. Not part of the headline table; run with `--impl`.
 */
import { RpcTarget } from 'capnweb';
import { DurableObject } from 'cloudflare:workers';
import { answerBatch, encodeCalls } from '../calls/batch.js';
import { pushFrame, readHeader, replyFrame } from '../rpc/frame.js';
import { encodePayload } from '../rpc/payload.js';

/** Sends `frame` to every socket of the room as it is (the bare room's broadcast). */
export function broadcastRaw(ctx: DurableObjectState, frame: string): void {
	for (const socket of ctx.getWebSockets()) {
		try {
			socket.send(frame);
		} catch {
			// A socket that is closing: the others still get theirs.
		}
	}
}

/** Accepts the upgrade with hibernation (the bare room's accept). */
export function accept(ctx: DurableObjectState): Response {
	const { 0: client, 1: server } = new WebSocketPair();
	ctx.acceptWebSocket(server);
	return new Response(null, { status: 101, webSocket: client });
}

/** The bare room, but its handler is `async` and awaits once before it answers. */
export class BareAsyncRoom extends DurableObject {
	override async fetch(): Promise<Response> {
		return accept(this.ctx);
	}

	override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
		await null;
		if (typeof message === 'string' && message.charCodeAt(0) === 98 /* b */) return broadcastRaw(this.ctx, message);
		ws.send(message);
	}
}

class Api extends RpcTarget {
	constructor(private readonly ctx: DurableObjectState) {
		super();
	}
	echo<T>(value: T): T {
		return value;
	}
	shout(value: unknown): number {
		broadcastRaw(this.ctx, pushFrame(encodeCalls([['event', 'bench:shout', encodePayload(value)]])));
		return this.ctx.getWebSockets().length;
	}
}

/**
 * Our frame format answered with `answerBatch` and nothing else of the library: the cost of
 * capnweb-per-frame alone (no session map, rate limit, attachment writes, batch inspection).
 */
export class CapnwebRoom extends DurableObject {
	override async fetch(): Promise<Response> {
		return accept(this.ctx);
	}

	override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
		if (typeof raw !== 'string') return;
		const header = readHeader(raw);
		if (header?.kind !== 'call') return;
		const lines = raw.slice(header.body).split('\n');
		const messages = lines.map((line) => JSON.parse(line) as unknown);
		ws.send(replyFrame(header.id, await answerBatch({ lines, messages }, new Api(this.ctx))));
	}
}
