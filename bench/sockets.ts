/**
 * One client socket per implementation behind the same small interface, so a scenario is written
 * once and only the wire differs.
 *
 * - ours (and the `capnweb` diagnostic room): `RoomConnection` from the library: `rpc.echo(x)`,
 *   `rpc.shout(x)`, events via `onEvent`.
 * - bare, party (and `bare-async`): a plain WebSocket with the least protocol that does the job, and the same JSON
 *   work a real app would do on each side of it: `JSON.stringify(x)` is echoed back and parsed;
 *   `"b" + JSON.stringify(x)` is broadcast to every socket and parsed by each receiver.
 */
import { RoomConnection } from '../client/connection.js';
import type { RoomRpc } from '../rpc/types.js';
import { speaksFrames, type Impl } from './impl.js';
import type { BenchApi } from './worker.js';

export type { Impl };

export interface BenchSocket {
	readonly opened: Promise<void>;
	/** One echo round trip of `value`. */
	call<T>(value: T): Promise<T>;
	/** Asks the room to broadcast `value` to every socket, this one included. */
	shout(value: unknown): void;
	/** Every broadcast this socket receives, in arrival order. */
	onShout: ((value: unknown) => void) | undefined;
	close(): void;
}

export function connect(impl: Impl, wsOrigin: string, room: string, deflate = true): BenchSocket {
	const url = `${wsOrigin}/${impl}/${encodeURIComponent(room)}`;
	const Socket = deflate ? WebSocket : NoDeflateWebSocket;
	return speaksFrames(impl) ? new OurSocket(url, Socket) : new PlainSocket(url, Socket);
}

/** Bun's WebSocket without the permessage-deflate offer (`--no-deflate`). */
class NoDeflateWebSocket extends WebSocket {
	constructor(url: string | URL) {
		// Bun's options overload is shadowed by the DOM lib's `protocols` one in this tsconfig.
		super(url, { perMessageDeflate: false } satisfies Bun.WebSocketOptions as unknown as string[]);
	}
}

class OurSocket implements BenchSocket {
	onShout: ((value: unknown) => void) | undefined;
	readonly #conn: RoomConnection<RoomRpc<BenchApi>>;
	readonly opened: Promise<void>;

	constructor(url: string, Socket: typeof WebSocket) {
		this.#conn = new RoomConnection<RoomRpc<BenchApi>>(
			url,
			{
				onEvent: (name, data) => {
					// Presence events (session:*) arrive too; only broadcasts are measured.
					if (name === 'bench:shout') this.onShout?.(data);
				},
			},
			{ WebSocket: Socket },
		);
		this.opened = this.#conn.opened;
	}

	call<T>(value: T): Promise<T> {
		return this.#conn.rpc.echo(value) as Promise<T>;
	}

	shout(value: unknown): void {
		// The delivery to this socket is what the sender waits for, as with the baselines; the reply
		// (the number of sockets reached) follows it and is not needed.
		(this.#conn.rpc.shout(value) as Promise<number>).catch(() => {});
	}

	close(): void {
		this.#conn.close();
	}
}

class PlainSocket implements BenchSocket {
	onShout: ((value: unknown) => void) | undefined;
	readonly opened: Promise<void>;
	readonly #ws: WebSocket;
	// The room echoes in order on one socket: answers match calls first in, first out.
	readonly #waiting: Array<{ resolve(raw: string): void; reject(error: Error): void }> = [];

	constructor(url: string, Socket: typeof WebSocket) {
		this.#ws = new Socket(url);
		this.opened = new Promise((resolve, reject) => {
			this.#ws.addEventListener('open', () => resolve(), { once: true });
			this.#ws.addEventListener('close', (e) => reject(new Error(`closed before opening (${e.code})`)), { once: true });
		});
		this.opened.catch(() => {});
		this.#ws.addEventListener('message', (e) => {
			const raw = e.data as string;
			if (raw.charCodeAt(0) === 98 /* b */) this.onShout?.(JSON.parse(raw.slice(1)));
			else this.#waiting.shift()?.resolve(raw);
		});
		this.#ws.addEventListener('close', () => {
			for (const waiter of this.#waiting.splice(0)) waiter.reject(new Error('socket closed'));
		});
	}

	call<T>(value: T): Promise<T> {
		return new Promise<T>((resolve, reject) => {
			this.#waiting.push({ resolve: (raw) => resolve(JSON.parse(raw) as T), reject });
			this.#ws.send(JSON.stringify(value));
		});
	}

	shout(value: unknown): void {
		this.#ws.send('b' + JSON.stringify(value));
	}

	close(): void {
		this.#ws.close(1000);
	}
}
