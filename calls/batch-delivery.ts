/**
 * How a client call batch leaves and how its answer comes back, whether it travels as the one plain
 * call (`shortcut/recorded-batch.ts`) or through a capnweb session (`session-batch.ts`). Nothing
 * here needs capnweb.
 */
import { fromRoom, RoomError } from '../rpc/errors.js';

/** Delivers one batch of capnweb messages and resolves with the room's answers to them. */
export type SendBatch = (messages: string[]) => Promise<string[]>;

/**
 * Runs `run` once the current macrotask is over. A full macrotask, not a microtask: the application
 * must get the chance to call `.then()` on every RpcPromise of the tick (that is what asks for a
 * result) before the batch leaves.
 *
 * `setImmediate` where there is one (Node, Bun). Browsers have none, and a timer will not do: they
 * hold a hidden tab's timers to one wake-up a second (a minute, after five minutes hidden), which
 * would hold every call made there as long. A message on a channel of its own is a macrotask no
 * browser throttles.
 */
export const afterThisMacrotask: (run: () => void) => void =
	typeof setImmediate === 'function'
		? (run) => void setImmediate(run)
		: (run) => {
				// One channel, so what is due runs in order (as `setImmediate` runs its callbacks); opened on
				// first use, which is never on a server (calls only leave a connected client).
				if (!port) {
					const channel = new MessageChannel();
					channel.port1.onmessage = () => due.shift()!();
					port = channel.port2;
				}
				due.push(run);
				port.postMessage(0);
			};

/** What {@link afterThisMacrotask} has yet to run, in order. */
const due: Array<() => void> = [];
let port: MessagePort | undefined;

/**
 * How a batch's session ends once the room's answers are consumed. One shared error: ending is the
 * normal case for every batch, and building an Error (with its stack) each time is not free. It only
 * reaches code that asks a finished batch for something it never sent.
 */
export const BATCH_ENDED = new RoomError('batch_ended', 'The batch ended before this call was answered', 0);

/** What a batch got back: the room's answers, or why there are none. */
export type Answer = { replies: string[] } | { failure: unknown };

/** Hands `messages` to `send` and reports the answer, whether `send` throws, rejects or resolves. */
export function deliver(send: SendBatch, messages: string[], then: (answer: Answer) => void): void {
	let answered: Promise<string[]>;
	try {
		answered = send(messages);
	} catch (failure) {
		answered = Promise.reject(failure);
	}
	answered.then(
		(replies) => then({ replies }),
		(failure: unknown) => then({ failure }),
	);
}

/**
 * Keeps one client's batches leaving in the order they were made. A batch leaves at the end of its
 * macrotask, at once; only one that waits for a chunk (capnweb, `sessions.ts`, or the call recorder,
 * `deferred-batch.ts`) to load holds the batches made after it until it has left.
 */
export class LeavingOrder {
	#waiting: Promise<void> | undefined;

	/** Settles once every batch given to {@link leave} so far has left. */
	get idle(): Promise<void> {
		return this.#waiting ?? Promise.resolve();
	}

	/** Runs `leave` now, or once the batches before it have left; `leave` returns a promise while it waits. */
	leave(leave: () => Promise<void> | void): void {
		const before = this.#waiting;
		const after = before ? before.then(leave) : leave();
		if (!after) return;
		const waiting = after
			.catch(() => {})
			.then(() => {
				if (this.#waiting === waiting) this.#waiting = undefined;
			});
		this.#waiting = waiting;
	}
}

/**
 * What the batches loaded on demand (the call recorder, `shortcut/recorded-batch.ts`; capnweb's
 * sessions, `session-batch.ts`) use of the client's first load, handed to each by the loader of its
 * chunk (its `useKit`) rather than imported: a module that the entry and several of its chunks
 * import becomes an up-front file of its own in an app's build (esbuild, Rollup and Rolldown alike
 * split it off), a request and a gzip stream more for every page.
 */
export const BATCH_KIT = { afterThisMacrotask, BATCH_ENDED, deliver, fromRoom };

export type BatchKit = typeof BATCH_KIT;
