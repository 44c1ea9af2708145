/**
 * Idle sockets in counted rooms (eviction and keep-alive scenarios); see `IdleConfig` in `wire.ts`.
 * Sockets join strictly one at a time: locally, a Durable Object whose sockets arrived through
 * overlapping upgrades was never evicted (DESIGN.md, cf. workerd#6862).
 */
import type { Control } from '../main.js';
import { hasPresence } from '../../shared/impl.js';
import { connect, type BenchSocket } from '../sockets.js';
import type { IdleConfig } from '../../shared/wire.js';
import { closeAll, timedCall } from './connect.js';

/** Until `done()` or `timeoutMs` passed, checking every 5 ms. */
async function until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
	for (const deadline = performance.now() + timeoutMs; !done(); await Bun.sleep(5)) {
		if (performance.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
	}
}

export async function idle(config: IdleConfig, ctl: Control): Promise<void> {
	const pad = 'x'.repeat(config.payloadBytes);
	const rooms: BenchSocket[][] = [];
	let errors = 0;
	for (const room of config.rooms) {
		const sockets: BenchSocket[] = [];
		for (let i = 0; i < config.perRoom; i++) {
			const socket = connect(config.impl, config.wsOrigin, room, { deflate: config.deflate, counted: true, pingIntervalMs: config.pingEveryMs });
			await socket.joined;
			// Ours: the join is over once the room's presence announcement reached this socket too.
			if (hasPresence(config.impl)) await until(() => socket.sessions === i + 1 && sockets.every((s) => s.sessions === i + 1), 5_000, 'no presence');
			sockets.push(socket);
		}
		rooms.push(sockets);
	}
	const warmBeforeMs: number[] = [];
	for (const sockets of rooms) {
		for (let n = 0; n < config.warmCalls; n++) {
			const { ms, ok } = await timedCall(sockets[0]!, n, pad);
			if (!ok) errors++;
			// The first calls of a room pay for JIT and first use; keep the second half.
			if (n >= config.warmCalls / 2) warmBeforeMs.push(ms);
		}
	}
	const all = rooms.flat();
	ctl.emit({ type: 'ready' });
	await ctl.next('go');

	// The idle: nothing but keep-alive pings, if any (ours: the client's own, every `pingEveryMs`;
	// the baselines: the bench's, as often).
	const count = (key: 'pings' | 'pongs' | 'frames') => all.reduce((n, s) => n + s[key], 0);
	const framesAtRest = count('frames');
	const pingsBefore = count('pings');
	const pongsBefore = count('pongs');
	await Bun.sleep(config.idleMs);
	const pings = count('pings') - pingsBefore;
	// A ping sent at the very end may still wait for its pong (answered by the runtime at once).
	await until(() => count('pongs') - pongsBefore >= pings, 1_000, 'pongs missing').catch(() => {});
	const pongs = count('pongs') - pongsBefore;
	ctl.emit({
		type: 'idled',
		pings,
		pongs,
		otherFrames: count('frames') - framesAtRest - pongs,
		closed: all.filter((s) => s.closed).length,
	});
	await ctl.next('next');

	const firstCallMs: number[] = [];
	const warmMs: number[] = [];
	for (const sockets of rooms) {
		const first = await timedCall(sockets[0]!, -1, pad);
		if (!first.ok) errors++;
		firstCallMs.push(first.ms);
		for (let n = 0; n < config.warmCalls; n++) {
			const { ms, ok } = await timedCall(sockets[0]!, n, pad);
			if (!ok) errors++;
			warmMs.push(ms);
		}
	}
	ctl.emit({ type: 'result', firstCallMs, warmMs, warmBeforeMs, errors });
	await ctl.next('exit');
	closeAll(all);
}
