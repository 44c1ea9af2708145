/**
 * The orchestrator's side of a crowd (`roles/crowd.ts`): `total` sockets in one room spread over
 * a few client processes, joined on `connect`, optionally with traffic on `go`, summed on `stop`.
 */
import { ClientProcess } from './child.js';
import type { Bench } from '../context.js';
import { hasPresence, type Impl } from '../shared/impl.js';
import { ensureFileLimit } from './limits.js';
import type { CrowdConfig, CrowdResult, JoinedMessage } from '../shared/wire.js';

/** How many sockets each process holds: as even as possible, `perProcess` at most, `maxProcesses` at most. */
export function shares(total: number, perProcess: number, maxProcesses = Infinity): number[] {
	const procs = Math.max(1, Math.min(maxProcesses, Math.ceil(total / perProcess)));
	return Array.from({ length: procs }, (_, i) => Math.floor(total / procs) + (i < total % procs ? 1 : 0)).filter((n) => n > 0);
}

/** Every process's `joined` summed (first and last of the times), with when `connect` was sent. */
export type JoinSummary = Omit<JoinedMessage, 'type'> & {
	/** Shared-clock time `connect` was sent. */
	connectAt: number;
};

/** Every process's `result` summed. */
export type CrowdSummary = Omit<CrowdResult, 'type'>;

export class Crowd {
	readonly processes: ClientProcess[];
	readonly notes: string[] = [];
	readonly #inRoom: number;

	constructor(
		bench: Bench,
		readonly impl: Impl,
		room: string,
		readonly total: number,
		{
			broadcasts = 0,
			rpcEveryMs = 0,
			deadlineMs,
			wsOrigin = bench.server.wsOrigin,
			inRoom = 0,
		}: {
			broadcasts?: number;
			rpcEveryMs?: number;
			deadlineMs: number;
			wsOrigin?: string;
			/** Sessions already in the room: ours' sockets have joined once they know of these too. */
			inRoom?: number;
		},
	) {
		this.#inRoom = inRoom;
		const { options, pinning } = bench;
		this.processes = shares(total, options.socketsPerProcess, options.crowdProcesses).map((sockets) => {
			const config: CrowdConfig = {
				role: 'crowd',
				impl,
				wsOrigin,
				room,
				deflate: options.deflate,
				deadlineMs,
				sockets,
				total: total + inRoom,
				connectConcurrency: options.connectConcurrency,
				stallMs: 30_000,
				broadcasts,
				rpcEveryMs,
				payloadBytes: options.payloadBytes,
			};
			return new ClientProcess(config, pinning.prefix, bench.clientBunArgs);
		});
	}

	/** Every process started; raises their open-file limits where needed. */
	async ready(timeoutMs = 60_000): Promise<void> {
		await Promise.all(this.processes.map((p) => p.wait('ready', timeoutMs)));
		const perProcess = Math.ceil(this.total / this.processes.length);
		for (const p of this.processes) this.notes.push(ensureFileLimit(p.pid, perProcess + 128, `client ${p.pid}`));
	}

	/**
	 * Sends `connect` to every process at once; resolves when each has joined (every socket open
	 * and, ours, aware of everyone), or after `timeoutMs` with what they have (`unsettled` > 0).
	 */
	async join(connectAt: number, timeoutMs: number): Promise<JoinSummary> {
		for (const p of this.processes) p.say('connect');
		const joined = await Promise.all(
			this.processes.map((p) =>
				p.wait<JoinedMessage>('joined', timeoutMs).catch(() => {
					p.say('stop');
					// A client far behind on its frames answers late: give it time before failing.
					return p.wait<JoinedMessage>('joined', 60_000);
				}),
			),
		);
		const sum = (key: keyof JoinedMessage) => joined.reduce((n, j) => n + (j[key] as number), 0);
		const failed = sum('failed');
		const fewestSessions = Math.min(...joined.map((j) => j.fewestSessions));
		// Sockets that never opened cannot be announced: when every socket that did open knows of
		// all the others, nobody missed an announcement (the failures are counted on their own).
		const unsettled = failed > 0 && hasPresence(this.impl) && fewestSessions >= this.#inRoom + this.total - failed ? 0 : sum('unsettled');
		return {
			connectAt,
			firstOpenAt: Math.min(...joined.map((j) => j.firstOpenAt)),
			lastOpenAt: Math.max(...joined.map((j) => j.lastOpenAt)),
			settledAt: Math.max(...joined.map((j) => j.settledAt)),
			failed,
			retried: sum('retried'),
			failReasons: joined.flatMap((j) => j.failReasons).slice(0, 10),
			unsettled,
			fewestSessions,
			mostSessions: Math.max(...joined.map((j) => j.mostSessions)),
			leaves: sum('leaves'),
			closedAtJoin: sum('closedAtJoin'),
			framesAtJoin: sum('framesAtJoin'),
			charsAtJoin: sum('charsAtJoin'),
			clientCpuUs: sum('clientCpuUs'),
			clientJitCpuUs: sum('clientJitCpuUs'),
		};
	}

	go(): void {
		for (const p of this.processes) p.say('go');
	}

	/** Ends the traffic (or the wait after joining) and sums every process's result. */
	async stop(timeoutMs = 30_000): Promise<CrowdSummary> {
		for (const p of this.processes) p.say('stop');
		const results = await Promise.all(this.processes.map((p) => p.wait<CrowdResult>('result', timeoutMs)));
		const sum = (key: keyof CrowdResult) => results.reduce((n, r) => n + (r[key] as number), 0);
		return {
			frames: sum('frames'),
			chars: sum('chars'),
			expected: sum('expected'),
			deliveries: sum('deliveries'),
			missing: sum('missing'),
			outOfOrder: sum('outOfOrder'),
			duplicates: sum('duplicates'),
			latencies: results.flatMap((r) => r.latencies),
			calls: sum('calls'),
			callErrors: sum('callErrors'),
			callLatencies: results.flatMap((r) => r.callLatencies),
			closed: sum('closed'),
			closeCodes: results.reduce<Record<string, number>>((all, r) => {
				for (const [code, count] of Object.entries(r.closeCodes)) all[code] = (all[code] ?? 0) + count;
				return all;
			}, {}),
			clientCpuUs: sum('clientCpuUs'),
		};
	}

	/** Closes every socket and ends every process (killed if it does not exit in time). */
	async finish(): Promise<void> {
		await Promise.all(this.processes.map((p) => p.finish(10_000)));
	}
}
