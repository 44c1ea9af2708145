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
	scenario: (s: string) => boolean;
	metric: string;
	/** Passes when ours ÷ reference ≤ limit (or ≥ limit for `atLeast`). */
	limit: number;
	against?: Impl;
	atLeast?: boolean;
}

const TARGETS: Target[] = [
	{ target: 'sequential RPC median ≤ 1.3× bare', scenario: (s) => s === 'sequential RPC', metric: 'round trip p50', limit: 1.3 },
	{ target: 'server CPU per call (sequential) ≤ 1.3× bare', scenario: (s) => s === 'sequential RPC', metric: 'server CPU per call', limit: 1.3 },
	{ target: 'server CPU per concurrent call ≤ 1.5× bare', scenario: (s) => s.startsWith('concurrent RPC'), metric: 'server CPU per call', limit: 1.5 },
	{ target: 'server CPU per broadcast delivery ≤ 1.05× bare', scenario: (s) => s.startsWith('fan-out paced'), metric: 'server CPU per delivery', limit: 1.05 },
	{
		target: 'server CPU per broadcast delivery ≤ partyserver',
		scenario: (s) => s.startsWith('fan-out paced'),
		metric: 'server CPU per delivery',
		limit: 1,
		against: 'party',
	},
	{ target: 'deliveries/s at saturation ≥ 0.95× bare', scenario: (s) => s.startsWith('fan-out saturated'), metric: 'deliveries/s', limit: 0.95, atLeast: true },
	{
		target: 'client CPU per delivery (WebsocketClient) ≤ 1.3× bare',
		scenario: (s) => s.startsWith('fan-out paced'),
		metric: 'client CPU per delivery',
		limit: 1.3,
	},
	{
		target: 'memory per connection ≤ 1.15× bare',
		scenario: (s) => s.startsWith('memory per idle connection'),
		metric: 'workerd RSS per connection',
		limit: 1.15,
	},
	{
		target: 'connect storm ≥ 0.5× bare connections/s (WebsocketClient)',
		scenario: (s) => s.startsWith('connect storm'),
		metric: 'connections/s',
		limit: 0.5,
		atLeast: true,
	},
	{
		target: 'first call after eviction ≤ 1.3× bare',
		scenario: (s) => s.startsWith('first call after eviction'),
		metric: 'first call after eviction',
		limit: 1.3,
	},
];

/** Targets on ours alone: a size limit, or a count that must be 0 in every run. */
interface AbsoluteTarget {
	target: string;
	scenario: (s: string) => boolean;
	metric: string;
	/** Checked against the worst run: the largest value must be ≤ `max`, the smallest ≥ `min`. */
	max?: number;
	min?: number;
}

const ABSOLUTE: AbsoluteTarget[] = [
	{
		target: 'client entry ≤ 14 kB gzip (capnweb, the call recorder, the payload decoder and the direct socket load on demand)',
		scenario: (s) => s.startsWith('client size'),
		metric: 'client entry (client/index.ts), min + gzip',
		max: 14,
	},
	{ target: 'DO wake-ups caused by keep-alive pings = 0', scenario: (s) => s.startsWith('keep-alive'), metric: 'wake-ups during the idle', max: 0 },
	{ target: 'every keep-alive ping answered', scenario: (s) => s.startsWith('keep-alive'), metric: 'pings unanswered', max: 0 },
	{ target: 'room evicted despite the pings', scenario: (s) => s.startsWith('keep-alive'), metric: 'evicted during the idle (1 = yes)', min: 1 },
	{
		target: 'connect storm: every socket joins and learns of everyone',
		scenario: (s) => s.startsWith('connect storm'),
		metric: 'failed + never saw everyone',
		max: 0,
	},
	{
		target: 'soak: nothing lost',
		scenario: (s) => s.startsWith('soak'),
		metric: 'lost: missing + out-of-order + duplicate + failed calls + closed + unjoined',
		max: 0,
	},
];

export function checkTargets(rows: readonly Row[]): TargetCheck[] {
	const find = (t: Target, impl: Impl) => rows.find((r) => t.scenario(r.scenario) && r.metric === t.metric && r.impl === impl);
	const checks: TargetCheck[] = [];
	for (const t of TARGETS) {
		const ours = find(t, 'ours');
		const reference = find(t, t.against ?? 'bare');
		if (!ours || !reference) continue;
		const ratio = pairedRatio(ours.runs, reference.runs);
		checks.push({
			target: t.target,
			actual: `${ratio.toFixed(2)}× (${formatNumber(ours.value)} vs ${formatNumber(reference.value)} ${ours.unit})`,
			met: t.atLeast ? ratio >= t.limit : ratio <= t.limit,
		});
	}
	for (const t of ABSOLUTE) {
		const ours = rows.find((r) => t.scenario(r.scenario) && r.metric === t.metric && r.impl === 'ours');
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
