/**
 * One logical room over several Durable Objects ("shards", `static options.shards`). Each shard holds
 * the sockets the handle sent it (`kit/handoff.ts`, by `rpc/shards.ts`'s naming) and is otherwise an
 * ordinary room; this module is what makes them one room:
 *
 * - What goes to the whole room (a broadcast, `sendTo`, entity changes) is done on the shard where
 *   it starts and relayed to every other shard in one Workers RPC call per peer, carrying the frame
 *   already encoded. A relayed message is delivered to that shard's sockets and never relayed again.
 *   Calls to one peer go through one stub, so a peer gets one sender's messages in order.
 * - Presence: each shard keeps window presence over its own sockets; its joins and leaves are relayed
 *   with the shard's own counts, gathered over `presenceBatchMs` as the room gathers them for its
 *   sockets (a join storm costs each peer one call per delay, not one per join: every relayed call
 *   is a request the peer must take), and every shard announces the room's total (its own counts
 *   plus the latest it heard from each peer). Gathered changes go out before anything else this shard
 *   relays, so presence is never overtaken. Routing a user's sockets to one shard keeps member counts
 *   exact as sums. The peers' counts are kept in storage, so a shard rebuilt after eviction still
 *   knows them.
 *
 * A shard knows who it is from its own name (`ctx.id.name`, kept in storage too): nothing else needs
 * to survive hibernation besides the peers' counts.
 */
import { readShardName, shardName, SHARDS_HEADER } from '../rpc/shards.js';
import type { EntityChangeInput, PresenceCount, PresenceUpdate } from '../rpc/types.js';
import type { ShardsOption } from './shard-options.js';

/** Where `sendTo` delivers (the same shape as the room's `SendTarget`). */
type Target = string | { session: string } | { user: string };

/** What one shard asks of the others; see {@link Shards.relay}. */
export type ShardMessage =
	| { kind: 'broadcast'; frame: string; exclude?: string[] }
	| { kind: 'sendTo'; target: Target; frame: string }
	| { kind: 'entities'; changes: EntityChangeInput[] }
	/** Answered: whether the session was on that shard. */
	| { kind: 'kick'; session: string; reason: string }
	/** `counts`: the sending shard's own after `changes`; each change's counts are replaced by each receiver's total. */
	| { kind: 'presence'; from: number; counts: PresenceCount; changes: PresenceChange[] };

/** One join or leave for the window (see `PresenceQueue` for `countOnly`). */
export interface PresenceChange {
	update: PresenceUpdate<unknown>;
	countOnly: boolean;
}

/** A peer shard, as Workers RPC shows it. */
interface PeerStub {
	shardRelay(message: ShardMessage): Promise<boolean | undefined>;
}

interface PeerNamespace {
	idFromName(name: string): DurableObjectId;
	get(id: DurableObjectId): unknown;
}

const COUNTS_KEY = 'delightstack:shard-counts';
const NAME_KEY = 'delightstack:shard-name';

export class Shards {
	/** One stub per peer, made once: calls through one stub reach the peer in order. */
	#peers?: PeerStub[];
	/** The latest own counts each peer announced (index → counts). */
	readonly #heard: Map<number, PresenceCount>;
	/** Presence changes made here and not relayed yet, and this shard's counts after them. */
	#changes: PresenceChange[] = [];
	#counts: PresenceCount = { users: 0, sessions: 0 };
	#timer: ReturnType<typeof setTimeout> | undefined;

	constructor(
		readonly room: string,
		readonly index: number,
		readonly count: number,
		readonly namespace: PeerNamespace,
		readonly storage: DurableObjectStorage,
		/** How long presence changes gather before they are relayed (the room's `presenceBatchMs`). */
		readonly presenceDelayMs: number,
	) {
		this.#heard = new Map(storage.kv.get<[number, PresenceCount][]>(COUNTS_KEY) ?? []);
	}

	/** Sends `message` to every other shard of the room (one call each, not awaited). */
	relay(message: ShardMessage): void {
		if (message.kind !== 'presence') this.#flushPresence();
		for (const peer of this.#stubs()) {
			peer
				.shardRelay(message)
				.catch((error: unknown) => console.error(`Shard ${this.index} of room ${JSON.stringify(this.room)} could not relay a ${message.kind}:`, error));
		}
	}

	/** Asks every other shard to kick `session`; whether one had it. */
	async kick(session: string, reason: string): Promise<boolean> {
		const answers = await Promise.all(this.#stubs().map((peer) => peer.shardRelay({ kind: 'kick', session, reason })));
		return answers.includes(true);
	}

	/** Relays a presence change made on this shard; `own`: this shard's counts after it. */
	presence(update: PresenceUpdate<unknown>, own: PresenceCount, countOnly: boolean): void {
		this.#changes.push({ update, countOnly });
		this.#counts = own;
		if (this.presenceDelayMs <= 0) return this.#flushPresence();
		this.#timer ??= setTimeout(() => this.#flushPresence(), this.presenceDelayMs);
	}

	#flushPresence(): void {
		clearTimeout(this.#timer);
		this.#timer = undefined;
		if (this.#changes.length === 0) return;
		const changes = this.#changes;
		this.#changes = [];
		this.relay({ kind: 'presence', from: this.index, counts: this.#counts, changes });
	}

	/** A peer's counts, as it announced them with a change. */
	heard(from: number, counts: PresenceCount): void {
		this.#heard.set(from, { users: counts.users, sessions: counts.sessions });
		this.storage.kv.put(COUNTS_KEY, [...this.#heard]);
	}

	/** The room's counts: this shard's own plus the latest heard from each peer. */
	total(own: PresenceCount): PresenceCount {
		let { users, sessions } = own;
		for (const counts of this.#heard.values()) {
			users += counts.users;
			sessions += counts.sessions;
		}
		return { users, sessions };
	}

	#stubs(): PeerStub[] {
		if (this.#peers) return this.#peers;
		this.#peers = [];
		for (let i = 0; i < this.count; i++) {
			if (i !== this.index) this.#peers.push(this.namespace.get(this.namespace.idFromName(shardName(this.room, i))) as PeerStub);
		}
		return this.#peers;
	}
}

/**
 * This Durable Object's place in its sharded room, or undefined for an unsharded room. Its name is
 * kept in storage too: a stub made from the id's string (`idFromString`) reaches it without one.
 */
export function openShards(option: ShardsOption, presenceDelayMs: number, ctx: DurableObjectState, env: unknown): Shards | undefined {
	if (option.count <= 1) return undefined;
	const kept = ctx.storage.kv.get<string>(NAME_KEY);
	const name = ctx.id.name ?? kept;
	if (name === undefined) {
		console.error('A sharded room reached by an id without a name cannot find its other shards; use idFromName(room) for its stub');
		return undefined;
	}
	if (name !== kept) ctx.storage.kv.put(NAME_KEY, name);
	const namespace = (env as Record<string, unknown> | undefined)?.[option.binding!] as PeerNamespace | undefined;
	if (typeof namespace?.idFromName !== 'function' || typeof namespace.get !== 'function') {
		throw new TypeError(`static options.shards.binding is "${option.binding}", but env.${option.binding} is not a Durable Object namespace`);
	}
	const { room, index } = readShardName(name);
	return new Shards(room, index, option.count, namespace, ctx.storage, presenceDelayMs);
}

/** The 421 that tells the handle this room's shard count, or undefined when the handoff is right. */
export function misrouted(option: ShardsOption, shards: number | undefined): Response | undefined {
	if ((shards ?? 1) === option.count) return undefined;
	return new Response(null, { status: 421, headers: { [SHARDS_HEADER]: String(option.count) } });
}
