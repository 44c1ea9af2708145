/**
 * Messages handled strictly in arrival order, nearly all of them at once: one whose handling
 * finishes later (it waits for capnweb's sessions or the payload decoder to load) holds the ones
 * after it until it is done. The socket's frames (`connection.ts`) and the SharedWorker's messages
 * to a tab (`shared/port-transport.ts`) come in this way.
 */
export class Inbox {
	readonly #onError: (error: unknown) => void;
	#held: Promise<void> | undefined;

	/** @param onError hears what a handler threw; the messages after it are handled all the same. */
	constructor(onError: (error: unknown) => void) {
		this.#onError = onError;
	}

	/** Whether nothing is held: a message handled now would be handled in order. */
	get idle(): boolean {
		return this.#held === undefined;
	}

	/**
	 * Handles a message now, or after those held: `handle(message)`, which returns a promise when it
	 * finishes later. A handler made once and the message apart cost no closure per message, which
	 * showed in an event's delivery (nearly every message is one).
	 */
	take(handle: () => Promise<void> | undefined): void;
	take<M>(handle: (message: M) => Promise<void> | undefined, message: M): void;
	take(handle: (message?: unknown) => Promise<void> | undefined, message?: unknown): void {
		if (this.#held) return this.#hold(this.#held.then(() => handle(message)));
		let later: Promise<void> | undefined;
		try {
			later = handle(message);
		} catch (error) {
			this.#onError(error);
		}
		if (later) this.#hold(later);
	}

	#hold(delivery: Promise<void>): void {
		const held = delivery.catch(this.#onError).then(() => {
			if (this.#held === held) this.#held = undefined;
		});
		this.#held = held;
	}
}
