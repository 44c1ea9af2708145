/**
 * A crowd: many sockets of one process in one room (connect storm, memory, soak). See `CrowdConfig`
 * in `wire.ts` for the protocol. Every wait is bounded: by `stop` from the orchestrator, or by the
 * process deadline.
 */
import type { Control } from '../main.js';
import { now } from '../../shared/clock.js';
import { connect, type BenchSocket } from '../sockets.js';
import type { CrowdConfig } from '../../shared/wire.js';
import { closeAll, timedCall } from './connect.js';
import { Deliveries } from './deliveries.js';
import { hasPresence } from '../../shared/impl.js';
import { JIT_THREAD, cpuNanos } from '../../shared/threads.js';

/**
 * Opens `config.sockets` sockets with at most `connectConcurrency` upgrades in flight; resolves
 * when each has opened or failed to. An upgrade that fails is tried again after 1 s, then 2 s (ours:
 * by the library's own reconnects); a socket that failed three times is counted as failed, not
 * thrown: refusing connections under load is a finding, not a harness error.
 */
async function openAll(
	config: CrowdConfig,
	onOpen: (at: number) => void,
): Promise<{ sockets: BenchSocket[]; failed: number; retried: number; reasons: string[] }> {
	const sockets: BenchSocket[] = [];
	const reasons: string[] = [];
	let failed = 0;
	let retried = 0;
	let next = 0;
	const open = async () => {
		const socket = connect(config.impl, config.wsOrigin, config.room, { deflate: config.deflate });
		try {
			await socket.opened;
			sockets.push(socket);
			onOpen(now());
		} catch (error) {
			failed++;
			if (reasons.length < 5) reasons.push(`${error instanceof Error ? error.message : String(error)}${socket.lastError ? `: ${socket.lastError}` : ''}`);
		}
		if (socket.attempts > 1) retried++;
	};
	const worker = async () => {
		while (next < config.sockets) {
			next++;
			await open();
		}
	};
	await Promise.all(Array.from({ length: Math.min(config.connectConcurrency, config.sockets) }, worker));
	return { sockets, failed, retried, reasons };
}

export async function crowd(config: CrowdConfig, ctl: Control): Promise<void> {
	ctl.emit({ type: 'ready' });
	await ctl.next('connect');

	// Joining: every socket open, and (ours) every socket aware of all `total` sessions.
	// Read first: the reading's own CPU stays outside the crowd's.
	const jitNanos = () => cpuNanos('self', JIT_THREAD);
	const jitAtConnect = jitNanos();
	const cpuAtConnect = process.cpuUsage();
	let firstOpenAt = Infinity;
	let lastOpenAt = 0;
	const presence = hasPresence(config.impl);
	let settledSockets = 0;
	let settledAt = 0;
	let allSettled: (() => void) | undefined;
	const settled = new Promise<void>((resolve) => (allSettled = resolve));
	// A join that makes no progress for `stallMs` (nothing opens, no socket learns of a session)
	// will not complete: report it rather than wait for the orchestrator's deadline. Progress is a
	// time stamp checked a few times per `stallMs`: a timer reset on every announcement each socket
	// hears was client CPU only our sockets paid (the baselines hear none).
	let lastProgress = now();
	let onStall: (() => void) | undefined;
	const stalled = new Promise<void>((resolve) => (onStall = resolve));
	const progress = () => void (lastProgress = now());
	const stallCheck = setInterval(
		() => {
			if (now() - lastProgress >= config.stallMs) onStall?.();
		},
		Math.max(10, config.stallMs / 10),
	);
	const { sockets, failed, retried, reasons } = await openAll(config, (at) => {
		firstOpenAt = Math.min(firstOpenAt, at);
		lastOpenAt = Math.max(lastOpenAt, at);
		progress();
	});
	for (const socket of sockets) {
		let done = false;
		const check = () => {
			progress();
			if (done || (presence && socket.sessions < config.total)) return;
			done = true;
			settledAt = now();
			if (++settledSockets === sockets.length) allSettled?.();
		};
		socket.onPresence = check;
		check();
	}
	if (sockets.length === 0) allSettled?.();
	// Bounded: `stop` ends the wait (the orchestrator's own deadline), a stall, or the process deadline.
	await Promise.race([settled, stalled, ctl.next('stop')]);
	clearInterval(stallCheck);
	const joinCpu = process.cpuUsage(cpuAtConnect);
	const joinJitNs = jitNanos() - jitAtConnect;
	ctl.emit({
		type: 'joined',
		firstOpenAt,
		lastOpenAt,
		settledAt: settledAt || lastOpenAt,
		failed,
		retried,
		failReasons: reasons,
		unsettled: sockets.length - settledSockets,
		fewestSessions: Math.min(...sockets.map((s) => s.sessions)),
		mostSessions: Math.max(...sockets.map((s) => s.sessions)),
		leaves: sockets.reduce((n, s) => n + s.leaves, 0),
		closedAtJoin: sockets.filter((s) => s.closed).length,
		framesAtJoin: sockets.reduce((n, s) => n + s.frames, 0),
		charsAtJoin: sockets.reduce((n, s) => n + s.chars, 0),
		clientCpuUs: joinCpu.user + joinCpu.system,
		clientJitCpuUs: joinJitNs / 1000,
	});
	for (const socket of sockets) socket.onPresence = undefined;

	// Traffic: broadcasts checked per socket, and a trickle of echo calls.
	const seen = new Deliveries(config.broadcasts, sockets.length * config.broadcasts);
	for (const socket of sockets) seen.watch(socket);
	await ctl.next('go');
	const cpu = process.cpuUsage();
	let stopped = false;
	const stop = ctl.next('stop').then(() => void (stopped = true));
	const callLatencies: number[] = [];
	let calls = 0;
	let callErrors = 0;
	const pad = 'x'.repeat(config.payloadBytes);
	const caller = async () => {
		// Bounded by `stop` (and the process deadline): one call every `rpcEveryMs`, never two at once.
		for (let n = 0, i = 0; !stopped; n++, i = (i + 1) % sockets.length) {
			const { ms, ok } = await timedCall(sockets[i]!, n, pad);
			if (!ok) callErrors++;
			calls++;
			callLatencies.push(Math.round(ms * 1000) / 1000);
			await Promise.race([Bun.sleep(config.rpcEveryMs), stop]);
		}
	};
	const calling = config.rpcEveryMs > 0 ? caller() : Promise.resolve();
	await stop;
	await calling;
	const used = process.cpuUsage(cpu);
	ctl.emit({
		type: 'result',
		frames: sockets.reduce((n, s) => n + s.frames, 0),
		chars: sockets.reduce((n, s) => n + s.chars, 0),
		...seen.counts(),
		calls,
		callErrors,
		callLatencies,
		closed: sockets.filter((s) => s.closed).length,
		closeCodes: sockets.reduce<Record<string, number>>(
			(codes, s) => (s.closed ? { ...codes, [String(s.closeCode)]: (codes[String(s.closeCode)] ?? 0) + 1 } : codes),
			{},
		),
		clientCpuUs: used.user + used.system,
	});
	await ctl.next('exit');
	closeAll(sockets);
}
