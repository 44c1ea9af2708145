/**
 * When to reconnect, and when to stop trying. Pure bookkeeping: the transport reports what happened
 * (opened, closed with a code) and this answers with a delay or a reason to stop, so the whole
 * schedule can be tested with a fake clock and a fixed random source.
 *
 * What a browser cannot tell apart: a WebSocket whose HTTP handshake was refused (401, 403, 404,
 * 502…) fires `close` with code 1006 before `open`, exactly like an unreachable server; the status
 * is not exposed to scripts. Such failures are retried with backoff and end in
 * {@link RetriesExhausted}. For an authorization failure to stop the client at once, the server must
 * accept the upgrade and then close with {@link CloseCode.Unauthorized} or {@link CloseCode.Forbidden}.
 */
import { TERMINAL_CLOSE_CODES } from '../rpc/protocol.js';
import { ClosedByRoom, RetriesExhausted } from './errors.js';

export interface ReconnectOptions {
	/** Delay before the first retry; each further retry doubles it. @default 1000 */
	baseDelayMs?: number;
	/** Upper bound of the doubling (jitter is applied after the cap). @default 30000 */
	maxDelayMs?: number;
	/** Each delay is scaled by a random factor in `[1 - jitter, 1 + jitter]`, so a room's clients
	 * don't all come back in the same millisecond after a restart. @default 0.3 */
	jitter?: number;
	/** Retries in a row before giving up and resting in `'disconnected'`. @default 20 */
	maxAttempts?: number;
	/**
	 * A connection must stay up this long before the retry counter starts over. A server that
	 * accepts and immediately closes therefore backs off like an unreachable one instead of being
	 * hammered every second. @default 10000
	 */
	stableAfterMs?: number;
	/** Close codes after which the client never reconnects by itself. @default TERMINAL_CLOSE_CODES (4001, 4401, 4403, 4426) */
	terminalCloseCodes?: ReadonlySet<number>;
}

export const DEFAULT_RECONNECT: Required<ReconnectOptions> = {
	baseDelayMs: 1_000,
	maxDelayMs: 30_000,
	jitter: 0.3,
	maxAttempts: 20,
	stableAfterMs: 10_000,
	terminalCloseCodes: TERMINAL_CLOSE_CODES,
};

/** What to do after a close: retry after `delayMs`, or stop with `error`. */
export type ReconnectDecision =
	{ action: 'retry'; delayMs: number; /** 1 for the first retry. */ attempt: number } | { action: 'stop'; error: ClosedByRoom | RetriesExhausted };

export class ReconnectPolicy {
	readonly options: Readonly<Required<ReconnectOptions>>;
	readonly #random: () => number;
	#attempts = 0;
	#connectedAt: number | null = null;

	/** @param random a source of numbers in `[0, 1)`, `Math.random` unless a test fixes it. */
	constructor(options: ReconnectOptions = {}, random: () => number = Math.random) {
		this.options = { ...DEFAULT_RECONNECT, ...withoutUndefined(options) };
		this.#random = random;
	}

	/** Retries scheduled since the counter last started over. */
	get attempts(): number {
		return this.#attempts;
	}

	/** A connection was established at `now` (epoch ms). */
	connected(now: number): void {
		this.#connectedAt = now;
	}

	/** The socket (or an attempt to open one) closed at `now` with `code`. */
	closed(code: number, reason: string, now: number): ReconnectDecision {
		const upSince = this.#connectedAt;
		this.#connectedAt = null;
		if (this.options.terminalCloseCodes.has(code)) {
			this.#attempts = 0;
			return { action: 'stop', error: new ClosedByRoom(code, reason) };
		}
		if (upSince !== null && now - upSince >= this.options.stableAfterMs) this.#attempts = 0;
		if (this.#attempts >= this.options.maxAttempts) {
			const error = new RetriesExhausted(this.#attempts, code);
			this.#attempts = 0;
			return { action: 'stop', error };
		}
		const delayMs = this.delay(this.#attempts);
		this.#attempts++;
		return { action: 'retry', delayMs, attempt: this.#attempts };
	}

	/** Starts the counter over: the next failure waits `baseDelayMs` again. */
	reset(): void {
		this.#attempts = 0;
		this.#connectedAt = null;
	}

	/** The delay before retry number `retry + 1`, jitter included. */
	delay(retry: number): number {
		const { baseDelayMs, maxDelayMs, jitter } = this.options;
		const capped = Math.min(baseDelayMs * 2 ** retry, maxDelayMs);
		const factor = 1 + jitter * (2 * this.#random() - 1);
		return Math.max(0, Math.round(capped * factor));
	}
}

/**
 * Moments worth acting on at once: `online` and `visible` retry instead of waiting out the backoff;
 * `offline` checks a connected socket right away (an open socket does not notice the network is gone).
 */
export type WakeReason = 'online' | 'offline' | 'visible';

/** Calls `wake` at each such moment until the returned function is called. */
export type WakeSignals = (wake: (reason: WakeReason) => void) => () => void;

/**
 * The browser's signals: the `online` and `offline` events, and `visibilitychange` to visible (a
 * laptop opening, a tab coming to the front). Where these don't exist (the server, a test runner) it
 * subscribes to nothing.
 */
export const browserWakeSignals: WakeSignals = (wake) => {
	const scope = globalThis as Partial<Pick<typeof globalThis, 'addEventListener' | 'removeEventListener'>>;
	const doc = (globalThis as { document?: Document }).document;
	const onOnline = () => wake('online');
	const onOffline = () => wake('offline');
	const onVisibility = () => {
		if (doc?.visibilityState === 'visible') wake('visible');
	};
	if (typeof scope.addEventListener === 'function') {
		scope.addEventListener('online', onOnline);
		scope.addEventListener('offline', onOffline);
	}
	doc?.addEventListener('visibilitychange', onVisibility);
	return () => {
		if (typeof scope.removeEventListener === 'function') {
			scope.removeEventListener('online', onOnline);
			scope.removeEventListener('offline', onOffline);
		}
		doc?.removeEventListener('visibilitychange', onVisibility);
	};
};

function withoutUndefined<T extends object>(value: T): Partial<T> {
	return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
