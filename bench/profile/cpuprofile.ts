/**
 * Reads a V8 CPU profile of workerd and says where the time went: per function (self time) and per
 * source module. The bundle is not minified, so esbuild's `// path` comments mark where each
 * module starts: a sample's bundle line names its module without a source map.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
	id: number;
	callFrame: { functionName: string; url: string; lineNumber: number };
	children?: number[];
}

export interface CpuProfile {
	nodes: ProfileNode[];
	samples: number[];
	timeDeltas: number[];
}

export interface Hotspot {
	name: string;
	module: string;
	ms: number;
	share: number;
}

/** `line → module` for the bundle at `path` (0-based lines, as V8 reports them). */
export function moduleMap(path: string): (line: number) => string {
	const starts: Array<{ line: number; module: string }> = [];
	readFileSync(path, 'utf8')
		.split('\n')
		.forEach((text, line) => {
			const m = /^\/\/ ((?:node_modules\/)?[\w@./-]+\.[jt]s)$/.exec(text);
			if (m) starts.push({ line, module: m[1]!.replace(/^node_modules\/((?:@[^/]+\/)?[^/]+)\/.*$/, '$1') });
		});
	return (line) => {
		let found = 'bundle';
		for (const s of starts) if (s.line <= line) found = s.module;
		return found;
	};
}

/** Self time per node, from the sample stream (µs). */
function selfTimes(profile: CpuProfile): Map<number, number> {
	const self = new Map<number, number>();
	for (let i = 0; i < profile.samples.length; i++) {
		const id = profile.samples[i]!;
		self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
	}
	return self;
}

function moduleOf(frame: ProfileNode['callFrame'], bundleUrl: string, lineToModule: (line: number) => string): string {
	if (frame.url === '' || frame.url === undefined) {
		// V8 builtins (JSON.parse, Map.get…) and the pseudo-frames (program), (garbage collector), (idle).
		return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
	}
	if (frame.url.endsWith(bundleUrl)) return lineToModule(frame.lineNumber);
	return frame.url;
}

export function hotspots(profiles: readonly CpuProfile[], bundlePath: string, bundleUrl: string) {
	const lineToModule = moduleMap(bundlePath);
	const byFunction = new Map<string, { module: string; us: number }>();
	const byModule = new Map<string, number>();
	let total = 0;
	for (const profile of profiles) {
		const self = selfTimes(profile);
		for (const node of profile.nodes) {
			const us = self.get(node.id) ?? 0;
			if (us === 0) continue;
			const frame = node.callFrame;
			const module = moduleOf(frame, bundleUrl, lineToModule);
			if (module === '(idle)') continue;
			total += us;
			const name = `${frame.functionName || '(anonymous)'}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
			const key = `${module}\0${name}`;
			byFunction.set(key, { module, us: (byFunction.get(key)?.us ?? 0) + us });
			byModule.set(module, (byModule.get(module) ?? 0) + us);
		}
	}
	const functions: Hotspot[] = [...byFunction.entries()]
		.map(([key, v]) => ({ name: key.split('\0')[1]!, module: v.module, ms: v.us / 1000, share: v.us / total }))
		.sort((a, b) => b.ms - a.ms);
	const modules: Hotspot[] = [...byModule.entries()]
		.map(([module, us]) => ({ name: module, module, ms: us / 1000, share: us / total }))
		.sort((a, b) => b.ms - a.ms);
	return { totalMs: total / 1000, functions, modules };
}
