/**
 * Counted rooms (`?variant=counted`): the eviction and keep-alive scenarios need to know whether
 * the runtime constructed a room again (it had been evicted) and whether any of its handlers ran.
 * The counts live in module scope, which outlives an evicted Durable Object (the isolate stays), and
 * the Worker reads them at `/counters/<room>` without waking the room.
 */
import type { WSMessage } from 'partyserver';
import { PING, PONG } from '../shared/plain.js';
import { BareRoom, PartyRoom } from './baselines.js';
import { BenchRoom, DeflateBenchRoom } from './ours.js';

export interface RoomCounts {
	/** Times the runtime constructed this room: 1 + evictions that were followed by a wake-up. */
	constructed: number;
	fetch: number;
	message: number;
	close: number;
	error: number;
}

const counts = new Map<string, RoomCounts>();

/** The counts of `room` in the counted rooms labelled `label` (an implementation's name), if it ever ran. */
export function countsOf(label: string, room: string): RoomCounts | null {
	return counts.get(`${label}:${room}`) ?? null;
}

function countsFor(label: string, ctx: DurableObjectState): RoomCounts {
	const key = `${label}:${ctx.id.name ?? ctx.id.toString()}`;
	let entry = counts.get(key);
	if (!entry) counts.set(key, (entry = { constructed: 0, fetch: 0, message: 0, close: 0, error: 0 }));
	return entry;
}

/** A counted baseline room was constructed: it answers the keep-alive ping in the runtime, as ours does. */
function constructedBaseline(label: string, ctx: DurableObjectState): RoomCounts {
	ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
	const entry = countsFor(label, ctx);
	entry.constructed++;
	return entry;
}

/** One of our room classes, counted. */
function countedOurs(Room: typeof BenchRoom) {
	return class CountedOurs extends Room {
		readonly #counts: RoomCounts;
		constructor(ctx: DurableObjectState, env: unknown) {
			super(ctx, env);
			(this.#counts = countsFor('ours', ctx)).constructed++;
		}
		override fetch(request: Request): Promise<Response> {
			this.#counts.fetch++;
			return super.fetch(request);
		}
		override webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
			this.#counts.message++;
			return super.webSocketMessage(ws, raw);
		}
		override webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
			this.#counts.close++;
			return super.webSocketClose(ws, code, reason);
		}
		override webSocketError(ws: WebSocket): Promise<void> {
			this.#counts.error++;
			return super.webSocketError(ws);
		}
	};
}

export const CountedBenchRoom = countedOurs(BenchRoom);
export const CountedDeflateBenchRoom = countedOurs(DeflateBenchRoom);

/** The bare room, counted, and answering the keep-alive ping in the runtime as ours does. */
export class CountedBareRoom extends BareRoom {
	readonly #counts: RoomCounts;
	constructor(ctx: DurableObjectState, env: unknown) {
		super(ctx, env as never);
		this.#counts = constructedBaseline('bare', ctx);
	}
	override fetch(request: Request): Promise<Response> {
		this.#counts.fetch++;
		return super.fetch(request);
	}
	override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
		this.#counts.message++;
		super.webSocketMessage(ws, message);
	}
	override webSocketClose(ws: WebSocket, code: number, reason: string): void {
		this.#counts.close++;
		super.webSocketClose(ws, code, reason);
	}
	override webSocketError(): void {
		this.#counts.error++;
	}
}

/** partyserver, counted, with the same runtime-answered ping (partyserver does not set one itself). */
export class CountedPartyRoom extends PartyRoom {
	readonly #counts: RoomCounts;
	constructor(ctx: DurableObjectState, env: unknown) {
		super(ctx, env as never);
		this.#counts = constructedBaseline('party', ctx);
	}
	override fetch(request: Request): Promise<Response> {
		this.#counts.fetch++;
		return super.fetch(request);
	}
	override webSocketMessage(ws: WebSocket, message: WSMessage): Promise<void> {
		this.#counts.message++;
		return super.webSocketMessage(ws, message);
	}
	override webSocketClose(ws: WebSocket, code: number, reason: string, wasClean: boolean): Promise<void> {
		this.#counts.close++;
		return super.webSocketClose(ws, code, reason, wasClean);
	}
	override webSocketError(ws: WebSocket, error: unknown): Promise<void> {
		this.#counts.error++;
		return super.webSocketError(ws, error);
	}
}
