/** Order statistics. Nearest-rank percentiles: a reported p99 is a latency that really happened. */

export function percentile(sorted: readonly number[], p: number): number {
	if (sorted.length === 0) return NaN;
	const rank = Math.ceil((p / 100) * sorted.length);
	return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function sortNumbers(values: Iterable<number>): number[] {
	return Array.from(Float64Array.from(values).sort());
}

/** The median of repeated runs: what the report shows, because one run on this machine is noise. */
export function median(values: readonly number[]): number {
	const finite = values.filter(Number.isFinite);
	if (finite.length === 0) return NaN;
	const sorted = sortNumbers(finite);
	const mid = sorted.length >> 1;
	return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Summary of one run's latencies, in milliseconds. */
export function summarize(latenciesMs: readonly number[]): { p50: number; p99: number; max: number; n: number } {
	const sorted = sortNumbers(latenciesMs);
	return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? NaN, n: sorted.length };
}

/**
 * The ratio a ÷ b taken run by run and then the median: run i of every implementation ran
 * back to back, so each pair shares the machine's load of that moment. Steadier than the ratio of
 * two medians when other work on the machine comes and goes during a scenario.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
	const n = Math.min(a.length, b.length);
	return median(Array.from({ length: n }, (_, i) => a[i]! / b[i]!));
}
