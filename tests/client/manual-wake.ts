/** Wake signals a test fires by hand, standing in for the browser's `online`, `offline` and `visibilitychange`. */
import type { WakeReason } from '../../client/reconnect.js';

export function manualWake() {
	let wake: ((reason: WakeReason) => void) | undefined;
	return {
		signals: (callback: (reason: WakeReason) => void) => {
			wake = callback;
			return () => (wake = undefined);
		},
		fire: (reason: WakeReason) => wake?.(reason),
	};
}
