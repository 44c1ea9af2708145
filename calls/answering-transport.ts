/**
 * The side of a capnweb session that answers a batch: the room answering a browser's calls
 * (`batch.ts`), and a client running the room's one-way calls that need a session
 * (`deliverWithSession`, in the capnweb chunk `session-batch.ts`). Its own module so that the
 * client's chunk takes this and capnweb, not the room's end.
 */
import { RpcSession, type RpcTransportWithCustomEncoding } from 'capnweb';

/**
 * The room end of one batch. It is handed messages already parsed (the room parses once, to check
 * them before running anything), and hands back serialized replies.
 */
export class AnsweringTransport implements RpcTransportWithCustomEncoding {
	readonly encodingLevel = 'jsonCompatible' as const;
	readonly replies: string[] = [];
	#incoming: readonly unknown[];
	#next = 0;
	#allReceived = Promise.withResolvers<void>();
	#control: BatchControl | undefined;

	constructor(incoming: readonly unknown[], control?: BatchControl) {
		this.#incoming = incoming;
		this.#control = control;
	}

	send(message: unknown): void {
		this.replies.push(JSON.stringify(message));
	}

	receive(): Promise<unknown> {
		if (this.#next < this.#incoming.length) return Promise.resolve(this.#incoming[this.#next++]);
		this.#allReceived.resolve();
		// The batch is over: nothing else will ever arrive on this session. When the room gives up on
		// it (deadline, socket gone), this rejects and the session ends, dropping what it still holds.
		return new Promise((_, reject) => {
			if (this.#control) this.#control.cancel = reject;
		});
	}

	abort(reason: unknown): void {
		this.#allReceived.reject(reason);
	}

	get allReceived(): Promise<void> {
		return this.#allReceived.promise;
	}
}

/**
 * Lets the room end a batch early (its deadline passed, its socket left): `cancel` is set while a
 * capnweb session is still working on the batch, and ends that session with `reason`.
 */
export interface BatchControl {
	cancel?: (reason: unknown) => void;
}

/** Delivers a one-way batch through a capnweb session: any batch, and the reference for the client's `deliverOneWay` (`one-way.ts`). */
export async function deliverWithSession(messages: readonly string[], main: object): Promise<void> {
	const transport = new AnsweringTransport(messages.map((m) => JSON.parse(m)));
	const session = new RpcSession(transport, main);
	await transport.allReceived;
	await session.drain();
}
