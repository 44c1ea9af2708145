/**
 * Counted rooms (`?variant=counted`): the eviction and keep-alive scenarios need to know whether
 * the runtime constructed a room again (it had been evicted) and whether any of its handlers ran.
 * The counts live in module scope, which outlives an evicted Durable Object (the isolate stays), and
 * the Worker reads them at `/counters/<room>` without waking the room.
 */
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

/** What every counted room has: the Durable Object entry points the counts watch. */
interface Room {
	fetch(request: Request): unknown;
	webSocketMessage(ws: WebSocket, message: never): unknown;
	webSocketClose(ws: WebSocket, code: number, reason: string, wasClean: boolean): unknown;
	webSocketError?(ws: WebSocket, error: unknown): unknown;
}

// A mixin's base must take any arguments (TypeScript's rule for class mixins).
type RoomClass = new (...args: any[]) => Room;

/**
 * `Base` counted under `label`. Baselines also get the runtime-answered keep-alive ping ours sets
 * itself (`autoResponse`), so keep-alive costs all of them the same.
 */
function counted<Base extends RoomClass>(Base: Base, label: string, autoResponse: boolean) {
	return class Counted extends Base {
		readonly #counts: RoomCounts;
		constructor(...args: any[]) {
			super(...args);
			const ctx = args[0] as DurableObjectState;
			if (autoResponse) ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
			(this.#counts = countsFor(label, ctx)).constructed++;
		}
		override fetch(request: Request): unknown {
			this.#counts.fetch++;
			return super.fetch(request);
		}
		override webSocketMessage(ws: WebSocket, message: never): unknown {
			this.#counts.message++;
			return super.webSocketMessage(ws, message);
		}
		override webSocketClose(ws: WebSocket, code: number, reason: string, wasClean: boolean): unknown {
			this.#counts.close++;
			return super.webSocketClose(ws, code, reason, wasClean);
		}
		override webSocketError(ws: WebSocket, error: unknown): unknown {
			this.#counts.error++;
			return super.webSocketError?.(ws, error);
		}
	};
}

export const CountedBenchRoom = counted(BenchRoom, 'ours', false);
export const CountedDeflateBenchRoom = counted(DeflateBenchRoom, 'ours', false);
/** The bare room, counted, and answering the keep-alive ping in the runtime as ours does. */
export const CountedBareRoom = counted(BareRoom, 'bare', true);
/** partyserver, counted, with the same runtime-answered ping (partyserver does not set one itself). */
export const CountedPartyRoom = counted(PartyRoom, 'party', true);
