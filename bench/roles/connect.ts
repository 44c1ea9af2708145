/** Opens many sockets to one room, a few at a time, so the connect storm is bounded. */
import type { Impl } from '../impl.js';
import { connect, type BenchSocket } from '../sockets.js';

export async function openSockets(
	{ impl, wsOrigin, room, deflate }: { impl: Impl; wsOrigin: string; room: string; deflate: boolean },
	count: number,
	concurrency = 16,
): Promise<BenchSocket[]> {
	const sockets: BenchSocket[] = [];
	for (let i = 0; i < count; i += concurrency) {
		const wave = Array.from({ length: Math.min(concurrency, count - i) }, () => connect(impl, wsOrigin, room, deflate));
		sockets.push(...wave);
		await Promise.all(wave.map((s) => s.opened));
	}
	return sockets;
}

export function closeAll(sockets: readonly BenchSocket[]): void {
	for (const s of sockets) s.close();
}
