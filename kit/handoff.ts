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

/**
 * Forwards `request` (a WebSocket upgrade) to the Durable Object named `handoff.room`, with
 * `handoff` in {@link HANDOFF_HEADER}, and returns the room's answer (a 101 carrying the socket).
 */
export function handOff<Meta>(rooms: RoomNamespace, request: Request, handoff: Handoff<Meta>): Promise<Response> {
	const headers = new Headers(request.headers);
	// `set` replaces every copy, whatever its case: a browser cannot smuggle its own.
	headers.set(HANDOFF_HEADER, encodeHandoff(handoff));
	const stub = rooms.get(rooms.idFromName(handoff.room));
	return stub.fetch(new Request(request, { headers }));
}

/**
 * JSON with every non-ASCII character written as a `\uXXXX` escape. Header values are bytes, not
 * text: a user called "Zoë" or "李" would otherwise be refused by `Headers` or garbled on the way.
 * The escapes are plain JSON, so the room's `JSON.parse` reads back exactly the original strings.
 */
export function encodeHandoff<Meta>(handoff: Handoff<Meta>): string {
	return JSON.stringify(handoff).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
