/** `bench/results/<timestamp>.json`: everything a run measured, run by run, for later comparison. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Row } from '../context.js';
import { ratioVsBare } from './report.js';

export function writeResults(startedAt: Date, content: { rows: Row[] } & Record<string, unknown>): string {
	const dir = join(import.meta.dir, '..', 'results');
	mkdirSync(dir, { recursive: true });
	// ISO 8601 without colons, which some file systems refuse.
	const file = join(
		dir,
		`${startedAt
			.toISOString()
			.replace(/:/g, '-')
			.replace(/\.\d+Z$/, 'Z')}.json`,
	);
	const rows = content.rows.map((row) => ({ ...row, ratioVsBare: ratioVsBare(row, content.rows) }));
	writeFileSync(file, JSON.stringify({ startedAt: startedAt.toISOString(), ...content, rows }, null, '\t') + '\n');
	return file;
}
