/** A room's limits and switches: what `static options` may override, and the defaults. */
import { DEFAULT_CHANGE_LOG, type ChangeLogOptions } from './change-log.js';
import type { PresenceMode } from '../rpc/types.js';
import type { BucketPolicy } from './limits.js';
import type { BucketPolicies } from './user-limits.js';
import { checkShards, isSharded, SHARDED_PRESENCE, type ShardsOption } from './shard-options.js';

/** Limits a room enforces on each socket. Override any of them with `static options`. */
export interface RoomOptions {
	/** Largest frame accepted from a client, in UTF-8 bytes. Larger → `payload_too_large` (413). @default 65536 */
	maxFrameBytes: number;
	/**
	 * Per user (shared by all of a user's sockets, kept across reconnects and eviction): every call
	 * and event costs one token (see the README's Security section for what else is charged). A batch
	 * runs the calls the bucket covers, in order, and refuses the rest with `rate_limited` (429).
	 * @default 30 tokens, one back every 10 s
	 */
	rateLimit: BucketPolicy;
	/**
	 * Per user: events whose name starts with one of `prefixes` (e.g. `'cursor:'`) spend from this
	 * cheaper bucket instead. @default no prefixes; 60 tokens, one back every second
	 */
	eventRateLimit: BucketPolicy & { prefixes: readonly string[] };
	/**
	 * Per user: every frame costs one token, whether it is answered or refused, so malformed, empty
	 * or refused frames are not free. A frame beyond it is refused with `rate_limited` (429).
	 * @default 120 tokens, one back every 100 ms
	 */
	frameRateLimit: BucketPolicy;
	/**
	 * Per user: every socket opened costs one token (a long catch-up costs more, see `changeLog`).
	 * Beyond it the socket is closed at once with 4429. @default 20 tokens, one back every 3 s
	 */
	connectRateLimit: BucketPolicy;
	/** Sockets one user (`meta.user_id`) may hold in the room; one more is closed with 4429. @default 16 */
	maxSocketsPerUser: number;
	/** Sockets the room holds; one more is closed with 4503. @default 10000 */
	maxSessions: number;
	/**
	 * Frames refused whole in a row (malformed, too large, rate limited, unknown method) after which
	 * the socket is closed with 1008 (policy violation). @default 20
	 */
	maxRefusals: number;
	/**
	 * How long the room works on one batch of calls before it answers `timeout` (504) and drops it.
	 * @default 30000
	 */
	callTimeoutMs: number;
	/**
	 * Bytes the room may send a socket past an unanswered read check before closing it (4409): a
	 * peer that stops reading would otherwise make workerd queue everything sent to it in memory.
	 * The room asks for proof every quarter of this (see `do/backlog.ts`). @default 8 MiB
	 */
	maxUnreadBytes: number;
	/**
	 * A socket that has sent nothing for this long — not even the client's keep-alive ping, which
	 * comes every 30 s — is closed (4408) and announced as gone: a frozen tab or a dead network does
	 * not stay in presence. Checked by the Durable Object's alarm (at most once per this period while
	 * sockets are connected; a subclass that defines `alarm()` must call `super.alarm()`). 0 disables.
	 * @default 90000
	 */
	idleTimeoutMs: number;
	/**
	 * How much entity-change history a room keeps for clients that reconnect, and how much of it one
	 * reconnect may replay. @default 1000 changes, 24 h, 1 MiB per catch-up
	 */
	changeLog: ChangeLogOptions;
	/**
	 * Joins and leaves within this many milliseconds go out as one frame (each still its own
	 * event). Any other event flushes them first, so presence is never overtaken. 0 disables it.
	 * @default 50
	 */
	presenceBatchMs: number;
	/**
	 * How sockets learn who is in the room. `'full'`: each joiner gets the whole list and everyone
	 * hears every join and leave, so `N` joins cost the room O(N²) bytes. `{ window: 50 }`: each joiner
	 * gets the counts and the first 50 members (in order of arrival); each join or leave costs every
	 * socket the new counts (a few dozen bytes), plus a member entry only when the window changes.
	 * Counts alone wait longer the bigger the room (1 ms per socket, at most 5 s, at least
	 * `presenceBatchMs`), so they cost the room at most ~1000 frames a second whatever its size.
	 * Members past the window come on demand, `pageSize` (default 100) per call, through
	 * `ws.presence.more()` (each call spends a token of `rateLimit`). The client reads the same in both
	 * modes (`ws.presence`), so switching is a server-side change. Use a window for rooms that may
	 * hold more than a few hundred sockets. `window` and `pageSize` are whole numbers from 1 to 1000.
	 * @default 'full'
	 */
	presence: PresenceMode;
	/**
	 * Whether a socket may use permessage-deflate when the browser offers it (browsers always do).
	 * Off by default, as in `ws` and Socket.IO: the runtime compresses every frame separately for
	 * every socket, so compression multiplies a broadcast's CPU by the room's size, and each
	 * compressing socket keeps its own zlib state (about 200 KiB per socket in workerd). Realtime
	 * frames are small and Cloudflare does not bill egress; turn it on for rooms that send large,
	 * repetitive frames to few sockets.
	 * @default false
	 */
	compression: boolean;
	/**
	 * One room over `count` Durable Objects ("shards"), for rooms bigger than one object holds (at
	 * most 32,768 sockets, about 1,000 requests a second). The handle spreads sockets over the shards
	 * (all of a user's sockets on one shard); a broadcast, `sendTo` or entity change on any shard
	 * reaches the whole room, each shard relaying it once to the others through Workers RPC on the
	 * namespace bound as `binding` (this class's own binding, e.g. `'WS'`). Sharded rooms use window
	 * presence (`{ window: 50 }` unless `presence` says otherwise; `'full'` is refused) with the
	 * room's total counts. See the README's Sharding section. `count` is a whole number from 1 to 64.
	 * @default { count: 1 } (one Durable Object per room)
	 */
	shards: ShardsOption;
}

export const DEFAULT_ROOM_OPTIONS: RoomOptions = {
	maxFrameBytes: 64 * 1024,
	rateLimit: { capacity: 30, refillEveryMs: 10_000 },
	eventRateLimit: { capacity: 60, refillEveryMs: 1_000, prefixes: [] },
	frameRateLimit: { capacity: 120, refillEveryMs: 100 },
	connectRateLimit: { capacity: 20, refillEveryMs: 3_000 },
	maxSocketsPerUser: 16,
	maxSessions: 10_000,
	maxRefusals: 20,
	callTimeoutMs: 30_000,
	idleTimeoutMs: 90_000,
	maxUnreadBytes: 8 * 1024 * 1024,
	changeLog: DEFAULT_CHANGE_LOG,
	presenceBatchMs: 50,
	presence: 'full',
	compression: false,
	shards: { count: 1 },
};

/** `static options` over the defaults (nested options merged one level down). */
export function resolveOptions(own: Partial<RoomOptions>): RoomOptions {
	return {
		...DEFAULT_ROOM_OPTIONS,
		...own,
		eventRateLimit: { ...DEFAULT_ROOM_OPTIONS.eventRateLimit, ...own.eventRateLimit },
		changeLog: { ...DEFAULT_ROOM_OPTIONS.changeLog, ...own.changeLog },
		presence: checkPresence(own.presence ?? (isSharded(own.shards) ? SHARDED_PRESENCE : DEFAULT_ROOM_OPTIONS.presence)),
		shards: checkShards(own.shards ?? DEFAULT_ROOM_OPTIONS.shards, own.presence),
	};
}

/** Window presence with its page size filled in. */
export interface PresenceWindowOptions {
	window: number;
	pageSize: number;
}

/** The `presence` option checked, with `pageSize` defaulted; a bad value throws naming what is wrong. */
function checkPresence(mode: PresenceMode): 'full' | PresenceWindowOptions {
	if (mode === 'full') return mode;
	const { window, pageSize = 100 } = (mode ?? {}) as Partial<PresenceWindowOptions>;
	const whole = (n: unknown) => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 1000;
	if (typeof mode !== 'object' || !whole(window) || !whole(pageSize)) {
		throw new TypeError(`static options.presence must be 'full' or { window, pageSize? } with whole numbers from 1 to 1000; got ${JSON.stringify(mode)}`);
	}
	return { window: window!, pageSize };
}

/** The window, when the room's presence is windowed. */
export function presenceWindow(options: RoomOptions): PresenceWindowOptions | undefined {
	return options.presence === 'full' ? undefined : (options.presence as PresenceWindowOptions);
}

/** The policies of a user's four buckets. */
export function bucketPolicies(options: RoomOptions): BucketPolicies {
	return { calls: options.rateLimit, events: options.eventRateLimit, frames: options.frameRateLimit, connects: options.connectRateLimit };
}
