/**
 * Hands an authorized upgrade to its room. The only place that writes the handoff header: any copy a
 * browser sent is replaced, so the room can trust `{room, meta}` completely.
 */
import { HANDOFF_HEADER, type Handoff } from '../rpc/protocol.js';
import { pickShard, shardName, SHARDS_HEADER } from '../rpc/shards.js';

/** Anything that can address a room's Durable Object by name (a `DurableObjectNamespace`). */
export interface RoomNamespace {
	idFromName(name: string): DurableObjectId;
	get(id: DurableObjectId): { fetch(request: Request): Promise<Response> };
}

/**
 * The shard count each namespace's rooms told this isolate (see `rpc/shards.ts`); a namespace not
 * in here is taken as unsharded, and the first socket to a sharded room corrects it.
 */
const shardCounts = new WeakMap<RoomNamespace, number>();

/**
 * Forwards `request` (a WebSocket upgrade) to the Durable Object named `handoff.room`, with
 * `handoff` in {@link HANDOFF_HEADER}, and returns the room's answer (a 101 carrying the socket).
 *
 * A sharded room (`static options.shards`) answers a handoff with the wrong shard count with 421 and
 * its count; the socket is then handed to one of its shards (by {@link pickShard}), and later sockets
 * to that namespace go straight to a shard.
 */
export async function handOff<Meta>(rooms: RoomNamespace, request: Request, handoff: Handoff<Meta>): Promise<Response> {
	const believed = shardCounts.get(rooms) ?? 1;
	const answer = await handOffTo(rooms, request, handoff, believed);
	const told = answer.status === 421 ? Number(answer.headers.get(SHARDS_HEADER)) : NaN;
	if (!Number.isInteger(told) || told < 1 || told === believed) return answer;
	shardCounts.set(rooms, told);
	return handOffTo(rooms, request, handoff, told);
}

/** Hands the upgrade to a shard of a room believed to have `shards` (1: the room's own object, as ever). */
function handOffTo<Meta>(rooms: RoomNamespace, request: Request, handoff: Handoff<Meta>, shards: number): Promise<Response> {
	// The room reads the upgrade's URL and headers, nothing else. A request made of those, rather than
	// a copy of the browser's, leaves out its `cf`, which the runtime deep-clones (as JSON) for every
	// copy: here and again inside `fetch`. Its headers are copied once, and then can be changed.
	const forwarded = new Request(request.url, { headers: request.headers });
	// `set` replaces every copy, whatever its case: a browser cannot smuggle its own.
	forwarded.headers.set(HANDOFF_HEADER, encodeHandoff(shards > 1 ? { ...handoff, shards } : { room: handoff.room, meta: handoff.meta }));
	const name = shards > 1 ? shardName(handoff.room, pickShard(handoff.meta, shards)) : handoff.room;
	return rooms.get(rooms.idFromName(name)).fetch(forwarded);
}

/**
 * JSON with every non-ASCII character written as a `\uXXXX` escape. Header values are bytes, not
 * text: a user called "Zoë" or "李" would otherwise be refused by `Headers` or garbled on the way.
 * The escapes are plain JSON, so the room's `JSON.parse` reads back exactly the original strings.
 * A loop rather than a regular expression: this runs on every upgrade, and V8 drops compiled
 * expressions at garbage collection.
 */
export function encodeHandoff<Meta>(handoff: Handoff<Meta>): string {
	const json = JSON.stringify(handoff);
	let ascii = '';
	let from = 0;
	for (let i = 0; i < json.length; i++) {
		const c = json.charCodeAt(i);
		if (c < 0x7f) continue;
		ascii += json.slice(from, i) + `\\u${c.toString(16).padStart(4, '0')}`;
		from = i + 1;
	}
	// Most metadata is ASCII already: then the JSON goes as it is, with nothing copied.
	return from === 0 ? json : ascii + json.slice(from);
}
