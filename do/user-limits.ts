/**
 * Rate limits per user, shared by all of that user's sockets.
 *
 * Per-socket buckets refill by reconnecting, and N sockets of one user get N budgets. So each user
 * (the `user_id` the handle put in meta; a socket without one counts as its own user) has one set of
 * buckets, which:
 *
 * - live in memory while the room is awake, one object shared by the user's sockets;
 * - ride in the attachment of the socket that last spent from them, so eviction loses nothing (a
 *   fresh instance keeps, per bucket, the copy spent most recently);
 * - are written to storage when the user's last socket leaves, and read back when they return, so
 *   closing and reopening sockets buys nothing. A stored entry is deleted once it would be full
 *   again, when the user comes back or when the room sweeps.
 */
import type { Session } from '../rpc/types.js';
import { fullBucket, tokensAt, type BucketPolicy, type BucketState } from './limits.js';

/** One user's buckets. */
export interface UserBuckets {
	/** Calls and events (one token per push; see `batch-check.ts`). */
	calls: BucketState;
	/** Events whose name has one of `eventRateLimit.prefixes`. */
	events: BucketState;
	/** Every frame, answered or refused. */
	frames: BucketState;
	/** Every socket opened. */
	connects: BucketState;
}

export type BucketName = keyof UserBuckets;
export type BucketPolicies = Record<BucketName, BucketPolicy>;

const BUCKETS: readonly BucketName[] = ['calls', 'events', 'frames', 'connects'];

/** Storage key prefix of a departed user's buckets. */
export const STORED_PREFIX = 'ws:limits:';

/**
 * Whose buckets a session spends from: `u:<user_id>`, or `s:<ws_session_id>` for a session without
 * one. A user's key is also the tag on the user's sockets (`sessions.ts`), which is how a woken room
 * finds every socket sharing a caller's buckets.
 */
export function userKey(session: Session<unknown>): string {
	const id = (session.meta as { user_id?: unknown } | null)?.user_id;
	return typeof id === 'string' && id !== '' ? `u:${id}` : `s:${session.ws_session_id}`;
}

export function fullBuckets(policies: BucketPolicies, now: number): UserBuckets {
	return {
		calls: fullBucket(policies.calls, now),
		events: fullBucket(policies.events, now),
		frames: fullBucket(policies.frames, now),
		connects: fullBucket(policies.connects, now),
	};
}

/** Whether every bucket would be full by `now`: such a state need not be kept. */
export function allFull(buckets: UserBuckets, policies: BucketPolicies, now: number): boolean {
	return BUCKETS.every((name) => tokensAt(buckets[name], policies[name], now) >= policies[name].capacity);
}

/** Brings one bucket up to `now` and takes `cost` from it; false (and nothing taken) when short. */
export function spend(buckets: UserBuckets, name: BucketName, policy: BucketPolicy, cost: number, now: number): boolean {
	// In place: this runs twice per frame, and the buckets object is the user's own (shared by their
	// sockets, copied into attachments and storage when written).
	const bucket = buckets[name];
	bucket.tokens = tokensAt(bucket, policy, now);
	bucket.at = now;
	if (bucket.tokens < cost) return false;
	bucket.tokens -= cost;
	return true;
}

export function isUserBuckets(value: unknown): value is UserBuckets {
	if (!value || typeof value !== 'object') return false;
	return BUCKETS.every((name) => {
		const b = (value as Record<string, Partial<BucketState> | undefined>)[name];
		return typeof b?.tokens === 'number' && typeof b.at === 'number';
	});
}

/** The users who have sockets in the room: their shared buckets and how many sockets each has. */
export class UserLimits {
	#byUser = new Map<string, { buckets: UserBuckets; sockets: number }>();

	/** The user's buckets while any of their sockets is here. */
	get(key: string): UserBuckets | undefined {
		return this.#byUser.get(key)?.buckets;
	}

	/** How many sockets the user has here. */
	sockets(key: string): number {
		return this.#byUser.get(key)?.sockets ?? 0;
	}

	/**
	 * A socket of the user joined (or, after eviction, was found) with `buckets`: returns the one
	 * object every socket of the user shares. After eviction each socket brings its own copy; per
	 * bucket, the copy spent from most recently wins (every spend brings `at` up to date).
	 */
	join(key: string, buckets: UserBuckets): UserBuckets {
		const known = this.#byUser.get(key);
		if (!known) {
			this.#byUser.set(key, { buckets, sockets: 1 });
			return buckets;
		}
		known.sockets++;
		if (buckets !== known.buckets) for (const name of BUCKETS) if (buckets[name].at > known.buckets[name].at) known.buckets[name] = buckets[name];
		return known.buckets;
	}

	/** A socket of the user left; returns the buckets when it was the user's last. */
	leave(key: string): UserBuckets | undefined {
		const known = this.#byUser.get(key);
		if (!known) return undefined;
		if (--known.sockets > 0) return undefined;
		this.#byUser.delete(key);
		return known.buckets;
	}
}
