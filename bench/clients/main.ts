/**
 * A bench client process: `bun bench/.build/bench-client.js '<ClientConfig JSON>'`, this module
 * bundled as an app's client would be (`driver/build.ts`). Runs one role against one
 * implementation and speaks the line protocol in `shared/wire.ts` with the driver (`run.ts`).
 */
import { crowd } from './roles/crowd.js';
import { idle } from './roles/idle.js';
import { receive } from './roles/receive.js';
import { rpc } from './roles/rpc.js';
import { send } from './roles/send.js';
import type { ClientConfig, ClientMessage, Word } from '../shared/wire.js';

export interface Control {
	emit(message: ClientMessage): void;
	/** Resolves when the orchestrator sends `word` on stdin. */
	next(word: Word): Promise<void>;
}

function control(): Control {
	const waiting = new Map<string, Array<() => void>>();
	const seen = new Set<string>();
	let buffer = '';
	process.stdin.setEncoding('utf8');
	process.stdin.on('data', (chunk: string) => {
		buffer += chunk;
		for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
			const word = buffer.slice(0, nl).trim();
			buffer = buffer.slice(nl + 1);
			seen.add(word);
			for (const resolve of waiting.get(word)?.splice(0) ?? []) resolve();
		}
	});
	// The orchestrator went away: nobody will ever read our results.
	process.stdin.on('end', () => process.exit(3));
	return {
		emit: (message) => process.stdout.write(JSON.stringify(message) + '\n'),
		next: (word) => (seen.has(word) ? Promise.resolve() : new Promise((resolve) => waiting.set(word, [...(waiting.get(word) ?? []), resolve]))),
	};
}

const config = JSON.parse(process.argv[2] ?? '{}') as ClientConfig;
const ctl = control();
const fail = (message: string) => {
	ctl.emit({ type: 'error', message });
	process.exit(2);
};
// Every client is bounded in time, whatever happens to the room or the orchestrator.
setTimeout(() => fail(`deadline of ${config.deadlineMs} ms passed`), config.deadlineMs).unref();

const roles = { rpc, send, receive, crowd, idle } as const;
try {
	await (roles[config.role] as (config: ClientConfig, ctl: Control) => Promise<void>)(config, ctl);
	process.exit(0);
} catch (error) {
	fail(error instanceof Error ? (error.stack ?? error.message) : String(error));
}
