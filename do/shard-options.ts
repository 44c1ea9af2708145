/** The `shards` room option (see `RoomOptions.shards` and `do/shards.ts`), checked. */
import type { PresenceMode } from '../rpc/types.js';

/** How many Durable Objects one room spreads over, and the binding through which shards reach each other. */
export interface ShardsOption {
	/** Shards per room; 1 is an ordinary room. */
	count: number;
	/** The name of the room class's own Durable Object binding (e.g. `'WS'`); required when `count` > 1. */
	binding?: string;
}

/** Most shards one room may have: each broadcast costs `count - 1` Workers RPC calls. */
export const MAX_SHARDS = 64;

/** A sharded room's presence unless its options say otherwise. */
export const SHARDED_PRESENCE: PresenceMode = { window: 50 };

export function isSharded(option: ShardsOption | undefined): boolean {
	return option !== undefined && option.count > 1;
}

/** The option, or a `TypeError` naming what is wrong with it. */
export function checkShards(option: ShardsOption, presence: PresenceMode | undefined): ShardsOption {
	const { count, binding } = (option ?? {}) as Partial<ShardsOption>;
	if (!Number.isInteger(count) || count! < 1 || count! > MAX_SHARDS) {
		throw new TypeError(`static options.shards.count must be a whole number from 1 to ${MAX_SHARDS}; got ${JSON.stringify(count)}`);
	}
	if (count === 1) return { count };
	if (typeof binding !== 'string' || binding === '') {
		throw new TypeError('static options.shards.binding must name the room class\'s own Durable Object binding (e.g. "WS"): shards reach each other through it');
	}
	if (presence === 'full') throw new TypeError("A sharded room cannot use presence: 'full' (every join would list the whole room): use { window }");
	return { count: count!, binding };
}
