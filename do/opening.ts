/**
 * Sockets whose 101 has not gone out yet, and the frames held for them until it has.
 *
 * A joining socket is sent its session list (and whatever `onConnect` or the entity catch-up sends)
 * from inside the room's `fetch`, before the 101 that hands the socket to the browser is returned.
 * workerd keeps ~10–20 KiB more for the whole life of a socket that was sent a frame that early than
 * for one first sent to once it is connected (bench/README.md, *Issue 16: the first frame before the
 * 101*), so a room of idle sockets paid that on every one. Frames sent to a socket before then are
 * therefore held here, in order, and sent on the next turn of the event loop, after the 101.
 *
 * Order is kept: while a socket is held, everything sent to it (a broadcast, a presence frame, the
 * answer to a call it made as soon as it opened) is appended to what is held, and the held frames go
 * out first and in order. The wait is one timer turn for every socket accepted in the meantime.
 */
export class OpeningSockets {
	readonly #held = new Map<WebSocket, string[]>();
	/** Sockets whose 101 is on its way: released on the next turn. */
	#releasing: WebSocket[] = [];
	#timer: ReturnType<typeof setTimeout> | undefined;

	/** `ws` is being accepted: frames sent to it are held until {@link releaseSoon}. */
	hold(ws: WebSocket): void {
		this.#held.set(ws, []);
	}

	/** Holds `frame` when `ws` is held, in order; false when it is not (the caller sends it). */
	take(ws: WebSocket, frame: string): boolean {
		const held = this.#held.get(ws);
		if (!held) return false;
		held.push(frame);
		return true;
	}

	/** The room is returning `ws`'s 101: what is held goes out on the next turn. */
	releaseSoon(ws: WebSocket): void {
		if (!this.#held.has(ws)) return;
		this.#releasing.push(ws);
		this.#timer ??= setTimeout(() => {
			this.#timer = undefined;
			const releasing = this.#releasing;
			this.#releasing = [];
			for (const socket of releasing) this.release(socket);
		}, 0);
	}

	/** Sends what is held for `ws` now, and holds nothing more (e.g. before the room closes it). */
	release(ws: WebSocket): void {
		const held = this.#held.get(ws);
		if (!held) return;
		this.#held.delete(ws);
		try {
			for (const frame of held) ws.send(frame);
		} catch {
			// Gone already: its close is on its way to the room.
		}
	}
}
