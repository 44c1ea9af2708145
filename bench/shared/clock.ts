/**
 * A clock every process on this machine shares, in milliseconds with sub-millisecond precision:
 * wall-clock time at process start (`performance.timeOrigin`, captured with µs precision) plus the
 * monotonic time since. A sender stamps a broadcast with it and a receiver in another process
 * subtracts; clients all run on this machine, so no clock sync is needed. (Bun's `process.hrtime`
 * counts from process start, so it cannot be compared across processes.)
 */
const origin = performance.timeOrigin;

export function now(): number {
	return origin + performance.now();
}
