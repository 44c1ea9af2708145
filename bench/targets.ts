/**
 * The targets from issues 3 and 8, checked against the rows of this run. Ratios are ours ÷ bare
 * (median of run-by-run ratios). A target whose figure was not measured in this run is skipped.
 */
import type { Row } from './context.js';
import type { Impl } from './impl.js';
import { pairedRatio } from './stats.js';

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
	{ target: 'server CPU per call (sequential) ≤ 1.5× bare', scenario: (s) => s === 'sequential RPC', metric: 'server CPU per call', limit: 1.5 },
	{ target: 'server CPU per concurrent call ≤ 1.5× bare', scenario: (s) => s.startsWith('concurrent RPC'), metric: 'server CPU per call', limit: 1.5 },
	{ target: 'server CPU per broadcast delivery ≤ 1.1× bare', scenario: (s) => s.startsWith('fan-out paced'), metric: 'server CPU per delivery', limit: 1.1 },
	{ target: 'server CPU per broadcast delivery ≤ partyserver', scenario: (s) => s.startsWith('fan-out paced'), metric: 'server CPU per delivery', limit: 1, against: 'party' },
	{ target: 'deliveries/s at saturation ≥ 0.9× bare', scenario: (s) => s.startsWith('fan-out saturated'), metric: 'deliveries/s', limit: 0.9, atLeast: true },
	{ target: 'client CPU per delivery ≤ 1.3× bare', scenario: (s) => s.startsWith('fan-out paced'), metric: 'client CPU per delivery', limit: 1.3 },
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
			actual: `${ratio.toFixed(2)}× (${formatValue(ours.value)} vs ${formatValue(reference.value)} ${ours.unit})`,
			met: t.atLeast ? ratio >= t.limit : ratio <= t.limit,
		});
	}
	return checks;
}

export function formatValue(value: number): string {
	if (!Number.isFinite(value)) return String(value);
	if (value === 0) return '0';
	const abs = Math.abs(value);
	if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
	if (abs >= 100) return value.toFixed(0);
	if (abs >= 10) return value.toFixed(1);
	return value.toFixed(2);
}
