/**
 * How the handle and a sharded room agree on which Durable Object is which shard (see `do/shards.ts`).
 *
 * Shard 0 of a room is the Durable Object named after the room itself, the same object an unsharded
 * room is: server code reaches "the room" as it always did, `ns.get(ns.idFromName(room))`. Shard `i`
 * (i ≥ 1) is named `<room>` + {@link SHARD_SEPARATOR} + `i`. The handle refuses room names with
 * control characters (`kit/room.ts`), so no room a browser can ask for is ever named like a shard.
 */

/** Between a room's name and a shard's index in the shard's Durable Object name (a control character). */
export const SHARD_SEPARATOR = '\u001f';

/**
 * The room's answer to a handoff that names the wrong shard count (the handle had none or an old
 * one): status 421 (Misdirected Request) with the room's count in this header. The handle keeps the
 * count (per namespace) and hands the socket over again to a shard.
 */
export const SHARDS_HEADER = 'x-delightstack-ws-shards';

/** The Durable Object name of shard `index` of `room`. */
export function shardName(room: string, index: number): string {
	return index === 0 ? room : `${room}${SHARD_SEPARATOR}${index}`;
}

/** The room and shard index a Durable Object name stands for (index 0: the room's own name). */
export function readShardName(name: string): { room: string; index: number } {
	const at = name.lastIndexOf(SHARD_SEPARATOR);
	if (at < 0) return { room: name, index: 0 };
	const index = Number(name.slice(at + 1));
	return Number.isInteger(index) && index > 0 ? { room: name.slice(0, at), index } : { room: name, index: 0 };
}

/**
 * Which shard a socket goes to: by `meta.user_id` when there is one, so all of a user's sockets share
 * a shard (per-user limits and presence members stay whole), at random otherwise.
 */
export function pickShard(meta: unknown, count: number): number {
	const user = (meta as { user_id?: unknown } | null)?.user_id;
	if (typeof user !== 'string' || user === '') return Math.floor(Math.random() * count);
	// FNV-1a over UTF-16 code units: cheap, and spreads similar ids (user-1, user-2…) evenly.
	let hash = 0x811c9dc5;
	for (let i = 0; i < user.length; i++) hash = Math.imul(hash ^ user.charCodeAt(i), 0x01000193);
	return (hash >>> 0) % count;
}
