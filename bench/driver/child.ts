/**
 * Client processes from the driver's side: spawn `bun bench/.build/bench-client.js <config>` (the
 * bundle of `bench/clients/main.ts`, see `build.ts`), read its JSON lines, send it words. Every
 * child is tracked so none outlives the run, even on error.
 */
import type { Subprocess } from 'bun';
import type { ClientConfig, ClientMessage, Word } from '../shared/wire.js';
import { buildClient } from './build.js';

const live = new Set<Subprocess>();
let clientScript: string | undefined;

/** Bundles the client processes' script; before the first `ClientProcess`. */
export async function prepareClients(): Promise<void> {
	clientScript = await buildClient();
}

/** Kills every client still running (by the pids this module spawned, nothing else). */
export function killAllClients(): void {
	for (const proc of live) proc.kill('SIGKILL');
	live.clear();
}

export class ClientProcess {
	readonly #proc: Subprocess<'pipe', 'pipe', 'inherit'>;
	readonly #waiters: Array<{ type: string; resolve(m: ClientMessage): void; reject(e: Error): void }> = [];
	readonly #inbox: ClientMessage[] = [];
	#failure: Error | undefined;
	readonly exited: Promise<number>;

	/** `prefix`: e.g. `taskset -c 1`; `bunArgs`: flags for bun itself (the profiler's `--cpu-prof-md`). */
	constructor(config: ClientConfig, prefix: readonly string[], bunArgs: readonly string[] = []) {
		if (!clientScript) throw new Error('prepareClients() must have finished before a client process starts');
		this.#proc = Bun.spawn([...prefix, process.execPath, ...bunArgs, clientScript, JSON.stringify(config)], {
			stdin: 'pipe',
			stdout: 'pipe',
			stderr: 'inherit',
		});
		live.add(this.#proc);
		this.exited = this.#proc.exited.then((code) => {
			live.delete(this.#proc);
			this.#fail(new Error(`client ${config.role}/${config.impl} exited with ${code}`));
			return code;
		});
		void this.#read();
	}

	get pid(): number {
		return this.#proc.pid;
	}

	async #read(): Promise<void> {
		const decoder = new TextDecoder();
		let buffer = '';
		const reader = this.#proc.stdout.getReader();
		for (;;) {
			const { value, done } = await reader.read();
			if (done) return;
			buffer += decoder.decode(value, { stream: true });
			for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
				const line = buffer.slice(0, nl);
				buffer = buffer.slice(nl + 1);
				if (!line.startsWith('{')) continue; // stray output from a library, not ours
				const message = JSON.parse(line) as ClientMessage;
				if (message.type === 'error') this.#fail(new Error(`client error: ${message.message}`));
				else this.#deliver(message);
			}
		}
	}

	#deliver(message: ClientMessage): void {
		const i = this.#waiters.findIndex((w) => w.type === message.type);
		if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(message);
		else this.#inbox.push(message);
	}

	#fail(error: Error): void {
		this.#failure ??= error;
		for (const w of this.#waiters.splice(0)) w.reject(error);
	}

	/** The next message of `type`, or a rejection after `timeoutMs` or when the client fails. */
	wait<T extends ClientMessage>(type: T['type'], timeoutMs: number): Promise<T> {
		const i = this.#inbox.findIndex((m) => m.type === type);
		if (i >= 0) return Promise.resolve(this.#inbox.splice(i, 1)[0] as T);
		if (this.#failure) return Promise.reject(this.#failure);
		return new Promise<T>((resolve, reject) => {
			const waiter = {
				type,
				resolve: (m: ClientMessage) => (clearTimeout(timer), resolve(m as T)),
				reject: (e: Error) => (clearTimeout(timer), reject(e)),
			};
			const timer = setTimeout(() => {
				// Gone from the queue: a message arriving later goes to the next waiter, or the inbox.
				this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
				reject(new Error(`no "${type}" from a client within ${timeoutMs} ms`));
			}, timeoutMs);
			this.#waiters.push(waiter);
		});
	}

	say(word: Word): void {
		try {
			this.#proc.stdin.write(word + '\n');
			this.#proc.stdin.flush();
		} catch {
			// It already exited; `exited` tells the rest.
		}
	}

	/** Asks it to close its sockets and exit; kills it if it has not within `graceMs`. */
	async finish(graceMs = 5_000): Promise<void> {
		this.say('exit');
		const timer = setTimeout(() => this.#proc.kill('SIGKILL'), graceMs);
		await this.exited;
		clearTimeout(timer);
	}
}
