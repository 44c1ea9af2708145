/**
 * Presence announcements, coalesced. When many sockets join or leave close together (a deploy, a
 * reconnect storm), announcing each change to everyone as its own frame costs N² frames. Instead the
 * room queues each `session:connected` / `session:disconnected` call and sends the queue as one frame
 * a short moment later — or at once, before any other event, so nothing ever overtakes presence.
 *
 * A socket that joined while the queue was filling already got a `session:list` that includes the
 * changes before it, so it gets only the changes queued after its list, less its own join: every
 * socket hears of every change exactly once. Each distinct frame is serialized once.
 */
export class PresenceQueue {
	/** Encoded capnweb `push` messages, in order. */
	#pending: string[] = [];
	/** Socket → what of `#pending` it must hear: from where (it was listed mid-queue), and which
	 * one to skip (its own join). */
	#joiners = new Map<WebSocket, { from: number; self: number }>();
	#timer: ReturnType<typeof setTimeout> | undefined;

	constructor(
		/** Milliseconds to wait for more changes; 0 sends each change at once. */
		readonly delayMs: number,
		/** Sends the queue now; called when the delay is up. */
		readonly onDue: () => void,
	) {}

	get empty(): boolean {
		return this.#pending.length === 0;
	}

	/** `ws` has just been sent a session list reflecting every change queued so far. */
	listed(ws: WebSocket): void {
		this.#joiners.set(ws, { from: this.#pending.length, self: -1 });
	}

	/** Queues a change; `joiner` is the socket it announces joining (it does not hear of itself). */
	add(message: string, joiner?: WebSocket): void {
		const entry = joiner && this.#joiners.get(joiner);
		if (entry) entry.self = this.#pending.length;
		this.#pending.push(message);
		if (this.delayMs <= 0) return this.onDue();
		this.#timer ??= setTimeout(() => {
			this.#timer = undefined;
			this.onDue();
		}, this.delayMs);
	}

	/**
	 * Empties the queue: for each socket, the frame of the changes it has not heard of. `frame`
	 * turns messages into a frame; `send` returns false for a dead socket, which is returned.
	 */
	drain(sockets: Iterable<WebSocket>, frame: (messages: string[]) => string, send: (ws: WebSocket, frame: string) => boolean): WebSocket[] {
		clearTimeout(this.#timer);
		this.#timer = undefined;
		const pending = this.#pending;
		const joiners = this.#joiners;
		this.#pending = [];
		this.#joiners = new Map();
		const frames = new Map<string, string | null>();
		const dead: WebSocket[] = [];
		for (const ws of sockets) {
			const { from, self } = joiners.get(ws) ?? { from: 0, self: -1 };
			const key = `${from},${self}`;
			let f = frames.get(key);
			if (f === undefined) {
				const messages = pending.filter((_, i) => i >= from && i !== self);
				frames.set(key, (f = messages.length > 0 ? frame(messages) : null));
			}
			if (f !== null && !send(ws, f)) dead.push(ws);
		}
		return dead;
	}
}
