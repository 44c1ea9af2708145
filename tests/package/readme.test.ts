/**
 * The README's "Getting started" is the app the package tests install and run
 * (tests/package/.fixture-app): every code block there (but the shell commands) appears verbatim in
 * one of its files, and each file a user writes appears whole in one block, so neither can drift.
 * Every other code block of the README appears verbatim in a file of the fixture too (most in
 * `src/lib/readme/`), so svelte-check over the installed app (pack.test.ts) type-checks them all.
 */
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, root, walk } from './app.js';

/** The files the README has a user write, each shown whole. */
const USER_FILES = [
	'src/lib/server/room.ts',
	'wrangler.jsonc',
	'svelte.config.js',
	'vite.config.ts',
	'src/app.d.ts',
	'src/hooks.server.ts',
	'src/routes/+page.svelte',
];

function gettingStarted(): string {
	const readme = readFileSync(join(root, 'README.md'), 'utf8');
	const start = readme.indexOf('\n## Getting started\n');
	expect(start).toBeGreaterThan(-1);
	const end = readme.indexOf('\n## ', start + 1);
	return readme.slice(start, end === -1 ? undefined : end);
}

/** The code blocks of `markdown` with their language, shell blocks aside. */
function codeBlocks(markdown: string): { lang: string; code: string }[] {
	return [...markdown.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, code: m[2]! })).filter((block) => block.lang !== 'sh');
}

describe('README "Getting started"', () => {
	const blocks = codeBlocks(gettingStarted());
	const files = new Map(walk(fixture).map((path) => [path.slice(fixture.length + 1), readFileSync(path, 'utf8')]));

	test('has the blocks a user pastes: room, wrangler.jsonc, svelte.config.js, vite.config.ts, app.d.ts, hooks, page', () => {
		expect(blocks.map((block) => block.lang)).toEqual(['json', 'ts', 'jsonc', 'js', 'ts', 'ts', 'ts', 'svelte']);
	});

	test('every block appears verbatim in a file of the fixture app', () => {
		const strays = blocks.filter((block) => ![...files.values()].some((text) => text.includes(block.code)));
		expect(strays.map((block) => block.code.split('\n')[0])).toEqual([]);
	});

	test('every file a user writes is one whole block', () => {
		const codes = new Set(blocks.map((block) => block.code));
		const missing = USER_FILES.filter((path) => !codes.has(files.get(path) ?? `(no ${path} in the fixture)`));
		expect(missing).toEqual([]);
	});
});

describe('README, every other section', () => {
	test('every code block (but shell commands) appears verbatim in a file of the fixture app, which svelte-check type-checks', () => {
		const readme = readFileSync(join(root, 'README.md'), 'utf8');
		const files = walk(fixture).map((path) => readFileSync(path, 'utf8'));
		const blocks = codeBlocks(readme);
		expect(blocks.length).toBeGreaterThan(15);
		const strays = blocks.filter((block) => !files.some((text) => text.includes(block.code)));
		expect(strays.map((block) => `${block.lang}: ${block.code.split('\n')[0]}`)).toEqual([]);
	});
});
