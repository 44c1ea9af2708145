/** What every scenario gets, and what it gives back. */
import type { Options } from './driver/options.js';
import type { Pinning } from './driver/pin.js';
import type { Impl } from './shared/impl.js';
import { median } from './shared/stats.js';
import type { BenchServer } from './driver/workerd.js';

export interface Bench {
	server: BenchServer;
	pinning: Pinning;
	options: Options;
	/** Progress for the terminal (stderr), never part of the results. */
	log(line: string): void;
	/** Extra flags for the `bun` running each client (the profiler's `--cpu-prof-md`). */
	clientBunArgs?: string[];
	/** Called right before a measured window opens and right after it closes (the profiler uses it). */
	window?: { open(impl: Impl): Promise<void>; close(impl: Impl): Promise<void> };
}

/**
 * One figure for one implementation: the median of its runs (or, for a count of faults, the worst
 * run: `aggregate`), and every run's value.
 */
export interface Row {
	scenario: string;
	impl: Impl;
	metric: string;
	unit: string;
	value: number;
	runs: number[];
	aggregate?: Aggregate;
}

/** How runs become a row's value: their median, or the worst run for faults (`max`, or `min` for "must be 1"). */
export type Aggregate = 'median' | 'max' | 'min';

export interface ScenarioResult {
	rows: Row[];
	/** Everything measured, run by run, for the JSON file. */
	raw: unknown[];
	/** Deliveries lost, duplicated or reordered, and wrong echoes: anything but 0 fails the run. */
	faults: number;
}

/** Rotates the implementations so each run starts with a different one: no fixed order bias. */
export function orderFor(run: number, impls: readonly Impl[]): Impl[] {
	return impls.map((_, i) => impls[(i + run) % impls.length]!);
}

/** Collects per-run values per (impl, metric) and turns them into median rows. */
export class RowCollector {
	readonly #values = new Map<string, { impl: Impl; metric: string; unit: string; runs: number[]; aggregate: Aggregate }>();
	constructor(readonly scenario: string) {}

	add(impl: Impl, metric: string, unit: string, value: number, aggregate: Aggregate = 'median'): void {
		const key = `${impl}\0${metric}`;
		const entry = this.#values.get(key) ?? { impl, metric, unit, runs: [], aggregate };
		entry.runs.push(value);
		this.#values.set(key, entry);
	}

	rows(): Row[] {
		return [...this.#values.values()].map((e) => ({
			scenario: this.scenario,
			...e,
			value: e.aggregate === 'max' ? Math.max(...e.runs) : e.aggregate === 'min' ? Math.min(...e.runs) : median(e.runs),
		}));
	}
}
