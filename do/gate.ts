/**
 * The gate: everything that comes into a room is checked and charged here before the room acts on
 * it. Sockets at the door (room size, sockets and connections per user), every frame (the frame
 * bucket), every batch (each expression checked, see `batch-check.ts`; each call charged to its
 * user's buckets, see `user-limits.ts`).
 */
import type { CallBatch } from '../calls/batch.js';
import { pullsAnything, singleCall } from '../calls/batch.js';
import { RoomError } from '../rpc/errors.js';
import { readHeader } from '../rpc/frame.js';
import { CloseCode } from '../rpc/protocol.js';
import type { Session } from '../rpc/types.js';
import { callableNames, refusedCall, type RoomApiClass } from './api.js';
import { checkBatch, checkPlainCall, type PushCost } from './batch-check.js';
import { bucketPolicies, type RoomOptions } from './options.js';
import { allFull, fullBuckets, isUserBuckets, spend, STORED_PREFIX, UserLimits, userKey, type BucketPolicies, type UserBuckets } from './user-limits.js';

/** A call batch as checked: its cost per push (`refused` once charged and not covered). */
export interface InspectedBatch extends CallBatch {
	pushes: PushCost[];
}

/** Whether a socket may come in: its user's buckets (one connect spent), or why not. */
export type Admission = { limits: UserBuckets } | { refused: number; reason: string };

export class Gate {
	readonly #options: RoomOptions;
	readonly #policies: BucketPolicies;
	readonly #storage: DurableObjectStorage;
	readonly #callable: ReadonlySet<string>;
	readonly #users = new UserLimits();

	constructor(options: RoomOptions, storage: DurableObjectStorage, api: RoomApiClass) {
		this.#options = options;
		this.#policies = bucketPolicies(options);
		this.#storage = storage;
		this.#callable = callableNames(api);
	}

	/**
	 * A socket at the door: refused when the room is full, the user holds `maxSocketsPerUser`
	 * sockets already, or their connect bucket is empty. The user's buckets come from their other
	 * sockets, or from storage when they left recently, or full.
	 */
	async admit(session: Session<unknown>, sessions: number): Promise<Admission> {
		const options = this.#options;
		if (sessions >= options.maxSessions) return { refused: CloseCode.RoomFull, reason: `room_full: The room holds ${options.maxSessions} sockets` };
		const key = userKey(session);
		if (this.#users.sockets(key) >= options.maxSocketsPerUser) {
			return { refused: CloseCode.RateLimited, reason: `rate_limited: At most ${options.maxSocketsPerUser} sockets per user` };
		}
		const limits = await this.#bucketsOf(key);
		if (!spend(limits, 'connects', options.connectRateLimit, 1, Date.now())) {
			return { refused: CloseCode.RateLimited, reason: 'rate_limited: Too many connections; retry later' };
		}
		return { limits };
	}

	/** A socket joined (or was found after eviction) with `limits`: returns what its user's sockets share. */
	joined(session: Session<unknown>, limits: UserBuckets): UserBuckets {
		return this.#users.join(userKey(session), limits);
	}

	/** A socket left. The user's last one: their buckets are kept for when they come back (unless full anyway). */
	left(session: Session<unknown>): void {
		const key = userKey(session);
		const last = this.#users.leave(key);
		if (last && !allFull(last, this.#policies, Date.now())) {
			this.#storage.put(STORED_PREFIX + key, last).catch((error: unknown) => console.error('Could not store rate limits', error));
		}
	}

	/** Every frame costs a token of the frame bucket, answered or refused. */
	spendFrame(limits: UserBuckets, now: number): boolean {
		return spend(limits, 'frames', this.#options.frameRateLimit, 1, now);
	}

	/**
	 * Whether any bucket a frame spends from is below half full: then what eviction could lose
	 * matters, and the state is written at once (see `SessionStore.saveSoon`).
	 */
	runningLow(limits: UserBuckets): boolean {
		const o = this.#options;
		return (
			limits.calls.tokens < o.rateLimit.capacity / 2 ||
			limits.events.tokens < o.eventRateLimit.capacity / 2 ||
			limits.frames.tokens < o.frameRateLimit.capacity / 2
		);
	}

	/** `tokens` more of the connect bucket (a long catch-up); false, and nothing taken, when short. */
	spendConnects(limits: UserBuckets, tokens: number, now: number): boolean {
		return spend(limits, 'connects', this.#options.connectRateLimit, tokens, now);
	}

	/**
	 * Reads a call batch and checks every expression in it before anything runs (see
	 * `batch-check.ts`); says what each call costs. The batch most frames carry (one plain call and
	 * its pull) is read without parsing it.
	 */
	inspect(body: string): InspectedBatch | RoomError {
		const lines = body === '' ? [] : body.split('\n');
		if (lines.length === 0) return new RoomError('bad_request', 'An empty batch', 400);
		// A call carrying an Error goes the checked way, which notes what the browser sent.
		const single = lines[0]!.includes('["error",') ? undefined : singleCall(lines);
		if (single) {
			const cost = checkPlainCall(single.method, single.args, this.#callable);
			return cost instanceof RoomError ? cost : { lines, single, pushes: [cost], oneWay: lines.length === 1 };
		}
		const checked = checkBatch(lines, this.#callable);
		if (checked instanceof RoomError) return checked;
		return { lines, ...checked, oneWay: !pullsAnything(checked.messages) };
	}

	/**
	 * Takes each call's tokens from the user's buckets, in order; a call the buckets cannot cover is
	 * rewritten to fail with `rate_limited` (later, cheaper calls may still run). Returns how many
	 * were refused.
	 */
	charge(limits: UserBuckets, batch: InspectedBatch, now: number): number {
		const { rateLimit, eventRateLimit } = this.#options;
		let refused = 0;
		for (const push of batch.pushes) {
			const cheap = push.event !== undefined && eventRateLimit.prefixes.some((p) => push.event!.startsWith(p));
			if (cheap ? spend(limits, 'events', eventRateLimit, push.tokens, now) : spend(limits, 'calls', rateLimit, push.tokens, now)) continue;
			push.refused = true;
			refused++;
		}
		if (refused > 0 && refused < batch.pushes.length) refuseCalls(batch);
		return refused;
	}

	/** Deletes stored buckets of departed users that are full again (at most a page at a time). */
	async forgetFullBuckets(now: number): Promise<void> {
		const stored = await this.#storage.list({ prefix: STORED_PREFIX, limit: 128 });
		const full = [...stored].filter(([, value]) => !isUserBuckets(value) || allFull(value, this.#policies, now)).map(([key]) => key);
		if (full.length > 0) await this.#storage.delete(full);
	}

	/** The user's buckets: shared with their other sockets, or as stored when they last left, or full. */
	async #bucketsOf(key: string): Promise<UserBuckets> {
		let stored: unknown;
		if (!this.#users.get(key)) {
			try {
				stored = await this.#storage.get(STORED_PREFIX + key);
			} catch (error) {
				console.error('Could not read stored rate limits', error);
			}
		}
		// Looked up again after the await: another socket of the user may have joined meanwhile.
		const known = this.#users.get(key);
		if (known) return known;
		return isUserBuckets(stored) ? stored : fullBuckets(this.#policies, Date.now());
	}
}

/** Replaces each refused push with a call that fails with `rate_limited`, keeping the numbering. */
function refuseCalls(batch: InspectedBatch): void {
	const messages = [...(batch.messages ?? batch.lines.map((line) => JSON.parse(line) as unknown))];
	let push = 0;
	for (let i = 0; i < messages.length; i++) {
		const message = messages[i] as unknown[];
		if (message[0] !== 'push') continue;
		if (batch.pushes[push++]!.refused) messages[i] = ['push', ['pipeline', 0, [refusedCall], []]];
	}
	batch.messages = messages;
	batch.single = undefined;
}

/** The id of a call frame, read without looking further (for refusals before anything is read). */
export function callId(raw: string | ArrayBuffer): number {
	if (typeof raw !== 'string') return -1;
	const header = readHeader(raw.length > 32 ? raw.slice(0, 32) : raw);
	return header?.kind === 'call' ? header.id : -1;
}
