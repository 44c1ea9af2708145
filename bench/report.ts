/**
 * The markdown the run prints (and the README quotes): one row per figure, its median over runs
 * (a count of faults: its worst run), and its ratio against bare (median of run-by-run ratios, see
 * `pairedRatio`).
 */
import type { Row } from './context.js';
import { pairedRatio } from './stats.js';
import { formatValue, type TargetCheck } from './targets.js';

import type { Impl } from './impl.js';

const IMPL_NAMES: Record<Impl, string> = {
	ours: 'ours (@delightstack/websocket)',
	'ours-deflate': 'ours, compression: true (deflate, as bare and party)',
	bare: 'bare DO',
	party: 'partyserver',
	'bare-async': 'diag: bare DO, async handler',
	capnweb: 'diag: bare DO + answerBatch only',
	'ours-unbatched': 'ours, presence not coalesced (presenceBatchMs: 0)',
};

export function markdownTable(rows: readonly Row[]): string {
	const lines = ['| scenario | implementation | metric | value | ratio vs bare |', '|---|---|---|---:|---:|'];
	for (const row of rows) {
		const bare = rows.find((r) => r.scenario === row.scenario && r.metric === row.metric && r.impl === 'bare');
		const ratio = bare && bare.value !== 0 && row.unit !== 'count' ? `${pairedRatio(row.runs, bare.runs).toFixed(2)}×` : '–';
		const value = row.unit === 'count' && Number.isInteger(row.value) ? row.value.toLocaleString('en-US') : formatValue(row.value);
		const metric = row.aggregate && row.aggregate !== 'median' && row.runs.length > 1 ? `${row.metric} (worst of ${row.runs.length} runs)` : row.metric;
		lines.push(`| ${row.scenario} | ${IMPL_NAMES[row.impl]} | ${metric} | ${value}${row.unit === 'count' ? '' : ` ${row.unit}`} | ${ratio} |`);
	}
	return lines.join('\n');
}

export function markdownTargets(checks: readonly TargetCheck[]): string {
	const lines = ['| target | this run | met |', '|---|---|:-:|'];
	for (const c of checks) lines.push(`| ${c.target} | ${c.actual} | ${c.met ? 'yes' : '**no**'} |`);
	return lines.join('\n');
}
