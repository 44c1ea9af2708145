/**
 * Messages handled strictly in arrival order, nearly all of them at once: one whose handling
 * finishes later (it waits for capnweb's sessions or the payload decoder to load) holds the ones
 * after it until it is done. The socket's frames (`connection.ts`) and the SharedWorker's messages
 * to a tab (`shared/port-transport.ts`) come in this way.
 *
 * The handler is given once, not per message: a closure per message showed in an event's delivery
 * cost (nearly every message is an event).
 */
export class Inbox<T> {
	readonly #handle: (message: T) => Promise<void> | undefined;
	readonly #onError: (error: unknown) => void;
	#held: Promise<void> | undefined;

	/**
	 * @param handle handles one message; returns a promise when it finishes later.
	 * @param onError hears what `handle` threw; the messages after it are handled all the same.
	 */
	constructor(handle: (message: T) => Promise<void> | undefined, onError: (error: unknown) => void) {
		this.#handle = handle;
		this.#onError = onError;
	}

	/** Handles `message` now, or after those held. */
	take(message: T): void {
		if (this.#held) return this.#hold(this.#held.then(() => this.#handle(message)));
		let later: Promise<void> | undefined;
		try {
			later = this.#handle(message);
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
