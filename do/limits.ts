/**
 * Token buckets, kept as plain data so they ride in the socket attachment and survive hibernation.
 * Refill is continuous: a bucket of 30 that gets one token back every 10 s holds 30 after 5 min idle.
 */

export interface BucketPolicy {
	/** Most tokens the bucket holds (and starts with). */
	capacity: number;
	/** Milliseconds for one token to come back. */
	refillEveryMs: number;
}

export interface BucketState {
	tokens: number;
	/** When `tokens` was last brought up to date (epoch ms). */
	at: number;
}

export function fullBucket(policy: BucketPolicy, now: number): BucketState {
	return { tokens: policy.capacity, at: now };
}

/** The tokens the bucket holds as of `now`, refilled but not spent. */
export function tokensAt(state: BucketState, policy: BucketPolicy, now: number): number {
	return Math.min(policy.capacity, state.tokens + Math.max(0, now - state.at) / policy.refillEveryMs);
}
