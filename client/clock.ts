/**
 * Time, behind an interface. Reconnect backoff, keep-alive and presence grace all wait on timers;
 * taking the clock as a parameter lets tests drive those waits step by step instead of sleeping
 * through them.
 */

/** An opaque timer handle from {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

export interface Clock {
	/** Epoch milliseconds. */
	now(): number;
	setTimeout(callback: () => void, ms: number): TimerHandle;
	clearTimeout(handle: TimerHandle): void;
}

/** The real clock. Looks the globals up on each call, so it is safe to import anywhere. */
export const systemClock: Clock = {
	now: () => Date.now(),
	setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
	clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};
