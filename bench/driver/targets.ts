/**
 * The targets (issue #16's, and the earlier ones it keeps), checked against the rows of this run (in its one compression
 * configuration: every socket compressed, or none). Ratios are ours ÷ bare
 * (median of run-by-run ratios); absolute targets (size, counts that must be 0) are checked on
 * ours' worst run. A target whose figure was not measured in this run is skipped.
 */
import type { Row } from '../context.js';
import type { Impl } from '../shared/impl.js';
import { pairedRatio } from '../shared/stats.js';

export interface TargetCheck {
	target: string;
	actual: string;
	met: boolean;
}

interface Target {
	target: string;
	/** The scenario's name starts with this. */
	scenario: string;
	metric: string;
	/** Passes when ours ÷ reference ≤ limit (or ≥ limit for `atLeast`). */
	limit: number;
	/** Ours as measured: our room as it ships, unless the target names a mode (window presence). */
	impl: Impl;
	against: Impl;
	atLeast: boolean;
}

/** ours ÷ `against` (bare by default) must be ≤ `limit`. */
const atMost = (target: string, scenario: string, metric: string, limit: number, against: Impl = 'bare'): Target => ({
	target,
	scenario,
	metric,
	limit,
	impl: 'ours',
	against,
	atLeast: false,
});
/** ours ÷ bare must be ≥ `limit`. */
const atLeast = (target: string, scenario: string, metric: string, limit: number): Target => ({ ...atMost(target, scenario, metric, limit), atLeast: true });

const TARGETS: Target[] = [
	atMost('sequential RPC median ≤ 1.3× bare', 'sequential RPC', 'round trip p50', 1.3),
	atMost('server CPU per call (sequential) ≤ 1.3× bare', 'sequential RPC', 'server CPU per call', 1.3),
	atMost('server CPU per concurrent call ≤ 1.5× bare', 'concurrent RPC', 'server CPU per call', 1.5),
	atMost('server CPU per broadcast delivery ≤ 1.05× bare', 'fan-out paced', 'server CPU per delivery', 1.05),
	atMost('server CPU per broadcast delivery ≤ partyserver', 'fan-out paced', 'server CPU per delivery', 1, 'party'),
	atLeast('deliveries/s at saturation ≥ 0.95× bare', 'fan-out saturated', 'deliveries/s', 0.95),
	atMost('client CPU per delivery (WebsocketClient) ≤ 1.3× bare', 'fan-out paced', 'client CPU per delivery', 1.3),
	atMost('memory per connection ≤ 1.15× bare', 'memory per idle connection', 'workerd RSS per connection', 1.15),
	atLeast('connect storm ≥ 0.5× bare connections/s (WebsocketClient), full presence (the default)', 'connect storm', 'connections/s', 0.5),
	{
		...atLeast('connect storm ≥ 0.5× bare connections/s (WebsocketClient), window presence (the mode for big rooms)', 'connect storm', 'connections/s', 0.5),
		impl: 'ours-window',
	},
	atMost('first call after eviction ≤ 1.3× bare', 'first call after eviction', 'first call after eviction', 1.3),
];

/** Targets on ours alone, checked against the worst run: a size limit, or a count that must be 0 in every run. */
interface AbsoluteTarget {
	target: string;
	/** The scenario's name starts with this. */
	scenario: string;
	metric: string;
	/** The largest value must be ≤ `max`, the smallest ≥ `min`. */
	max?: number;
	min?: number;
}

const ABSOLUTE: AbsoluteTarget[] = [
	{
		target: 'client entry ≤ 14 kB gzip (capnweb, the call recorder, the payload decoder and the direct socket load on demand)',
		scenario: 'client size',
		metric: 'client entry (client/index.ts), min + gzip',
		max: 14,
	},
	{ target: 'DO wake-ups caused by keep-alive pings = 0', scenario: 'keep-alive', metric: 'wake-ups during the idle', max: 0 },
	{ target: 'every keep-alive ping answered', scenario: 'keep-alive', metric: 'pings unanswered', max: 0 },
	{ target: 'room evicted despite the pings', scenario: 'keep-alive', metric: 'evicted during the idle (1 = yes)', min: 1 },
	{ target: 'connect storm: every socket joins and learns of everyone', scenario: 'connect storm', metric: 'failed + never saw everyone', max: 0 },
	{ target: 'soak: nothing lost', scenario: 'soak', metric: 'lost: missing + out-of-order + duplicate + failed calls + closed + unjoined', max: 0 },
];

export function checkTargets(rows: readonly Row[]): TargetCheck[] {
	const find = (t: { scenario: string; metric: string }, impl: Impl) =>
		rows.find((r) => r.scenario.startsWith(t.scenario) && r.metric === t.metric && r.impl === impl);
	const checks: TargetCheck[] = [];
	for (const t of TARGETS) {
		const ours = find(t, t.impl);
		const reference = find(t, t.against);
		if (!ours || !reference) continue;
		const ratio = pairedRatio(ours.runs, reference.runs);
		checks.push({
			target: t.target,
			actual: `${ratio.toFixed(2)}× (${formatNumber(ours.value)} vs ${formatNumber(reference.value)} ${ours.unit})`,
			met: t.atLeast ? ratio >= t.limit : ratio <= t.limit,
		});
	}
	for (const t of ABSOLUTE) {
		const ours = find(t, 'ours');
		if (!ours) continue;
		const worst = t.min !== undefined ? Math.min(...ours.runs) : Math.max(...ours.runs);
		const shown = formatValue(worst, ours.unit);
		checks.push({
			target: t.target,
			actual: ours.runs.length > 1 ? `${shown} (worst of ${ours.runs.length} runs)` : shown,
			met: (t.max === undefined || worst <= t.max) && (t.min === undefined || worst >= t.min),
		});
	}
	return checks;
}

/** A figure as the report shows it, with its unit: a whole count in full, without a unit. */
export function formatValue(value: number, unit: string): string {
	if (unit === 'count') return Number.isInteger(value) ? value.toLocaleString('en-US') : formatNumber(value);
	return `${formatNumber(value)} ${unit}`;
}

/** A number alone: whole from 100 up (grouped from 1000), one decimal from 10, two below. */
function formatNumber(value: number): string {
	if (!Number.isFinite(value)) return String(value);
	if (value === 0) return '0';
	const abs = Math.abs(value);
	if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
	if (abs >= 100) return value.toFixed(0);
	if (abs >= 10) return value.toFixed(1);
	return value.toFixed(2);
}
