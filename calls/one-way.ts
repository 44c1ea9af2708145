/**
 * The client end of room → client calls (`e` frames: the closing notice, `confirm`; events travel apart,
 * in `v` frames): runs them on the client's endpoint (its `ClientApi`). Plain calls run at once, without capnweb; any other batch goes
 * through a session (`session-batch.ts`, loaded on demand), which the room's `encodeCalls` only
 * writes for arguments that are not data.
 */
import { plainMethod, readPlainCall } from './shortcut/plain.js';
import { SHORTCUT } from './shortcut/switch.js';
import { sessionChunk } from './sessions.js';

/**
 * Delivers a one-way batch to `main`: runs every call in it, in order. Returns a promise only when
 * the batch needed a session (anything but plain calls); plain calls run before it returns. `main`'s
 * methods return nothing or a promise (what they return or throw goes nowhere, as in a session).
 */
export function deliverOneWay(messages: readonly string[], main: object): Promise<void> | undefined {
	const calls: Array<[(...args: unknown[]) => unknown, unknown[]]> = [];
	for (const line of messages) {
		const call = SHORTCUT ? readPlainCall(line) : undefined;
		const method = call && plainMethod(main, call.method);
		// All or nothing, checked before anything runs: order is kept either way.
		if (!call || !method) return withSession(messages, main);
		calls.push([method, call.args]);
	}
	for (const [method, args] of calls) runOneWay(main, method, args);
	return undefined;
}

/** Delivers the batch through a capnweb session (loaded on demand). */
function withSession(messages: readonly string[], main: object): Promise<void> {
	return sessionChunk.load().then((sessions) => sessions.deliverWithSession(messages, sessions.asTarget(main)));
}

/** Runs one one-way call: as in a session, what it returns or throws goes nowhere. */
function runOneWay(main: object, method: (...args: unknown[]) => unknown, args: unknown[]): void {
	try {
		const result = method.apply(main, args);
		if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') Promise.resolve(result).catch(() => {});
	} catch {
		// Ignored, as a session ignores a one-way call's failure.
	}
}
