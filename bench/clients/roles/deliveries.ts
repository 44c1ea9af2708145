/**
 * What receiving sockets saw of the broadcasts: every broadcast must reach each socket exactly once
 * and in order. Shared by the receivers of the fan-out and the crowds of the soak.
 */
import { now } from '../../shared/clock.js';
import type { BenchSocket } from '../sockets.js';
import type { DeliveryCounts, Shout } from '../../shared/wire.js';

export class Deliveries {
	deliveries = 0;
	/** Distinct broadcasts received, summed over the sockets. */
	unique = 0;
	outOfOrder = 0;
	duplicates = 0;
	/** Shared-clock time of the last delivery. */
	lastAt = 0;
	/** Per-delivery latency in ms (receipt − the sender's stamp), rounded to µs. */
	readonly latencies: number[] = [];

	constructor(
		/** Broadcasts each socket must get (sequence numbers 0 … broadcasts − 1). */
		readonly broadcasts: number,
		/** Distinct deliveries expected over every socket watched. */
		readonly expected: number,
		/** Called once every expected delivery is in. */
		readonly onAll?: () => void,
	) {}

	get missing(): number {
		return this.expected - this.unique;
	}

	/** The counts as the wire reports them. */
	counts(): DeliveryCounts {
		const { expected, deliveries, missing, outOfOrder, duplicates, latencies } = this;
		return { expected, deliveries, missing, outOfOrder, duplicates, latencies };
	}

	/** Checks every broadcast `socket` receives from now on (warm-up broadcasts are not counted). */
	watch(socket: BenchSocket): void {
		const seen = new Uint8Array(this.broadcasts);
		let next = 0;
		socket.onShout = (value) => {
			const shout = value as Shout;
			if (shout.warm) return;
			const at = now();
			this.deliveries++;
			this.lastAt = at;
			this.latencies.push(Math.round((at - shout.t) * 1000) / 1000);
			if (shout.seq >= this.broadcasts || seen[shout.seq]) {
				this.duplicates++;
				return;
			}
			// Behind one already seen: it overtook nothing, something overtook it. (A gap is counted
			// once, as missing, when the run ends.)
			if (shout.seq < next) this.outOfOrder++;
			next = Math.max(next, shout.seq + 1);
			seen[shout.seq] = 1;
			if (++this.unique === this.expected) this.onAll?.();
		};
	}
}
