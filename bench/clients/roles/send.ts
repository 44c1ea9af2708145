/**
 * The broadcaster: asks the room for `broadcasts` broadcasts, each stamped with its send time, and
 * keeps at most `window` of them unanswered (answered = its own copy came back); paced, it also
 * sends broadcast `seq` no earlier than `seq × intervalMs` after the start.
 */
import type { Control } from '../main.js';
import { now } from '../../shared/clock.js';
import type { SendConfig, Shout } from '../../shared/wire.js';
import { closeAll, openSockets } from './connect.js';

// One broadcast per frame for every implementation: without a macrotask between two `rpc.shout()`
// calls, our client would batch them into one frame, which the baselines cannot do.
const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function send(config: SendConfig, ctl: Control): Promise<void> {
	const [socket] = await openSockets(config, 1);
	const pad = 'x'.repeat(config.payloadBytes);
	let back = 0;
	let wake: (() => void) | undefined;
	socket!.onShout = () => {
		back++;
		wake?.();
	};
	const until = async (done: () => boolean) => {
		while (!done()) await new Promise<void>((resolve) => (wake = resolve));
	};

	for (let seq = 0; seq < config.warmup; seq++) {
		socket!.shout({ seq, t: now(), warm: true, pad } satisfies Shout);
		await until(() => back > seq);
	}
	back = 0;
	ctl.emit({ type: 'ready' });
	await ctl.next('go');

	const startAt = now();
	for (let seq = 0; seq < config.broadcasts; seq++) {
		await until(() => seq - back < config.window);
		if (config.intervalMs > 0) {
			const early = startAt + seq * config.intervalMs - now();
			if (early > 0) await Bun.sleep(early);
		}
		socket!.shout({ seq, t: now(), pad } satisfies Shout);
		await macrotask();
	}
	// Bounded by the process deadline if copies never come back; `stop` reports what we have.
	await Promise.race([until(() => back >= config.broadcasts), ctl.next('stop')]);
	ctl.emit({ type: 'result', sent: config.broadcasts, ownMissing: config.broadcasts - back, startAt, endAt: now() });
	await ctl.next('exit');
	closeAll([socket!]);
}
