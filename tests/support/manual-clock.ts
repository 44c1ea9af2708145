/**
 * A clock that only moves when a test says so. Timers run in due order as `advance` passes them,
 * so a backoff schedule or a keep-alive deadline can be stepped through without sleeping.
 */
import type { Clock, TimerHandle } from '../../client/clock.js';

interface Timer {
	at: number;
	seq: number;
	callback: () => void;
}

export class ManualClock implements Clock {
	#now: number;
	#seq = 0;
	#timers = new Map<number, Timer>();
	#scheduled: Array<(ms: number) => void> = [];

	constructor(start = 1_000_000) {
		this.#now = start;
	}

	now(): number {
		return this.#now;
	}

	setTimeout(callback: () => void, ms: number): TimerHandle {
		const id = ++this.#seq;
		this.#timers.set(id, { at: this.#now + Math.max(0, ms), seq: id, callback });
		for (const notify of this.#scheduled.splice(0)) notify(ms);
		return id;
	}

	/** Resolves with the delay of the next timer anyone sets (e.g. a client reacting to the network). */
	whenScheduled(timeoutMs = 5_000): Promise<number> {
		return new Promise<number>((resolve, reject) => {
			const timer = globalThis.setTimeout(() => reject(new Error(`no timer was set within ${timeoutMs} ms`)), timeoutMs);
			this.#scheduled.push((ms) => {
				globalThis.clearTimeout(timer);
				resolve(ms);
			});
		});
	}

	clearTimeout(handle: TimerHandle): void {
		this.#timers.delete(handle as number);
	}

	/** Delays (from now) of the timers still pending, soonest first. */
	pending(): number[] {
		return [...this.#timers.values()].sort(byDue).map((t) => t.at - this.#now);
	}

	/** Moves time forward by `ms`, running every timer that falls due on the way (including ones those set). */
	advance(ms: number): void {
		const until = this.#now + ms;
		for (let guard = 0; guard < 10_000; guard++) {
			const next = [...this.#timers.entries()].sort(([, a], [, b]) => byDue(a, b))[0];
			if (!next || next[1].at > until) break;
			this.#timers.delete(next[0]);
			this.#now = next[1].at;
			next[1].callback();
		}
		this.#now = until;
	}
}

function byDue(a: Timer, b: Timer): number {
	return a.at - b.at || a.seq - b.seq;
}
