/**
 * Hands an authorized upgrade to its room. The only place that writes the handoff header: any copy a
 * browser sent is replaced, so the room can trust `{room, meta}` completely.
 */
import { HANDOFF_HEADER, type Handoff } from '../rpc/protocol.js';

/** Anything that can address a room's Durable Object by name (a `DurableObjectNamespace`). */
export interface RoomNamespace {
	idFromName(name: string): DurableObjectId;
	get(id: DurableObjectId): { fetch(request: Request): Promise<Response> };
}

export function handOff<Meta>(rooms: RoomNamespace, request: Request, handoff: Handoff<Meta>): Promise<Response> {
	const headers = new Headers(request.headers);
	headers.set(HANDOFF_HEADER, JSON.stringify(handoff));
	const stub = rooms.get(rooms.idFromName(handoff.room));
	return stub.fetch(new Request(request, { headers }));
}
