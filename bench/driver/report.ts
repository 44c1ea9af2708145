/**
 * The markdown the run prints (and the README quotes): one row per figure, its median over runs
 * (a count of faults: its worst run), and its ratio against bare (median of run-by-run ratios, see
 * `pairedRatio`).
 */
import type { Row } from '../context.js';
import type { Impl } from '../shared/impl.js';
import { pairedRatio } from '../shared/stats.js';
import { formatValue, type TargetCheck } from './targets.js';

const IMPL_NAMES: Record<Impl, string> = {
	ours: 'ours (@delightstack/websocket)',
	bare: 'bare DO',
	party: 'partyserver',
	'bare-async': 'diag: bare DO, async handler',
	'ours-unbatched': 'ours, presence not coalesced (presenceBatchMs: 0)',
	'ours-window': 'ours, window presence, one Durable Object',
	'ours-sharded': 'ours, window presence, 10 shards',
	primer: "the idle scenarios' primer (never measured)",
};

/**
 * `row` ÷ bare's row of the same scenario and metric (`pairedRatio` of their runs); `null` for a
 * count, or when bare did not run or measured 0.
 */
export function ratioVsBare(row: Row, rows: readonly Row[]): number | null {
	if (row.unit === 'count') return null;
	const bare = rows.find((r) => r.scenario === row.scenario && r.metric === row.metric && r.impl === 'bare');
	return bare && bare.value !== 0 ? pairedRatio(row.runs, bare.runs) : null;
}

export function markdownTable(rows: readonly Row[]): string {
	const lines = ['| scenario | implementation | metric | value | ratio vs bare |', '|---|---|---|---:|---:|'];
	for (const row of rows) {
		const ratio = ratioVsBare(row, rows);
		const metric = row.aggregate && row.aggregate !== 'median' && row.runs.length > 1 ? `${row.metric} (worst of ${row.runs.length} runs)` : row.metric;
		lines.push(
			`| ${row.scenario} | ${IMPL_NAMES[row.impl]} | ${metric} | ${formatValue(row.value, row.unit)} | ${ratio === null ? '–' : `${ratio.toFixed(2)}×`} |`,
		);
	}
	return lines.join('\n');
}

export function markdownTargets(checks: readonly TargetCheck[]): string {
	const lines = ['| target | this run | met |', '|---|---|:-:|'];
	for (const c of checks) lines.push(`| ${c.target} | ${c.actual} | ${c.met ? 'yes' : '**no**'} |`);
	return lines.join('\n');
}
