/** Opens many sockets to one room, a few at a time, so the connect storm is bounded. */
import type { Impl } from '../../shared/impl.js';
import { connect, type BenchSocket } from '../sockets.js';

/** Upgrades in flight while `openSockets` opens its sockets. */
const CONCURRENCY = 16;

export async function openSockets(
	{ impl, wsOrigin, room, deflate }: { impl: Impl; wsOrigin: string; room: string; deflate: boolean },
	count: number,
): Promise<BenchSocket[]> {
	const sockets: BenchSocket[] = [];
	for (let i = 0; i < count; i += CONCURRENCY) {
		const wave = Array.from({ length: Math.min(CONCURRENCY, count - i) }, () => connect(impl, wsOrigin, room, { deflate }));
		sockets.push(...wave);
		await Promise.all(wave.map((s) => s.joined));
	}
	return sockets;
}

export function closeAll(sockets: readonly BenchSocket[]): void {
	for (const s of sockets) s.close();
}

/** Whether an echo of `{ n, pad }` came back as sent. */
export function echoed(back: { n: number; pad: string } | undefined, n: number, pad: string): boolean {
	return back?.n === n && back.pad.length === pad.length;
}

/**
 * One echo of `{ n, pad }` and how long it took; `ok` when the answer is the same value. A failed
 * call is timed too (until it failed) and is not `ok`.
 */
export async function timedCall(socket: BenchSocket, n: number, pad: string): Promise<{ ms: number; ok: boolean }> {
	const start = performance.now();
	try {
		const back = await socket.call({ n, pad });
		return { ms: performance.now() - start, ok: echoed(back, n, pad) };
	} catch {
		return { ms: performance.now() - start, ok: false };
	}
}
