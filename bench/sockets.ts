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
import { PING, PONG } from '../rpc/frame.js';
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
	/** Sends the keep-alive ping (`rpc/frame.ts`'s `PING`), which the runtime answers. */
	ping(): void;
	/** Every frame received (events, replies, presence, pongs) and their length in characters. */
	readonly frames: number;
	readonly chars: number;
	readonly pongs: number;
	/**
	 * How many sessions this socket knows are in the room: the `session:list` it got, plus
	 * `session:connected`, minus `session:disconnected` (ours; the baselines have no presence: 0).
	 */
	readonly sessions: number;
	/** `session:disconnected` announcements received. */
	readonly leaves: number;
	/** Called whenever `sessions` changes. */
	onPresence: (() => void) | undefined;
	/** Whether the socket has closed (or never opened), and with which code. */
	readonly closed: boolean;
	readonly closeCode: number | undefined;
	/** The message of the last `error` event, if any (why an upgrade failed). */
	readonly lastError: string | undefined;
	close(): void;
}

export interface ConnectOptions {
	/** Offer permessage-deflate, as browsers do. @default true */
	deflate?: boolean;
	/** The room's counted variant (`worker.ts`: constructions and handler calls are counted). */
	counted?: boolean;
}

export function connect(impl: Impl, wsOrigin: string, room: string, { deflate = true, counted = false }: ConnectOptions = {}): BenchSocket {
	const url = `${wsOrigin}/${impl}/${encodeURIComponent(room)}${counted ? '?variant=counted' : ''}`;
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

/** A WebSocket that counts the frames it delivers and their characters. */
type CountingSocket = WebSocket & { frames: number; chars: number };

const countingClasses = new Map<typeof WebSocket, typeof WebSocket>();

/**
 * `Socket`, counting frames inside the connection's own `message` listener rather than in a second
 * one: the baselines count in their only listener, and each listener is a dispatch per frame.
 */
function counting(Socket: typeof WebSocket): typeof WebSocket {
	let Counting = countingClasses.get(Socket);
	if (!Counting) {
		Counting = class extends Socket {
			frames = 0;
			chars = 0;
			override addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void {
				if (type !== 'message' || typeof listener !== 'function') return super.addEventListener(type, listener, options);
				super.addEventListener(type, (e: Event) => {
					const { data } = e as MessageEvent;
					this.frames++;
					this.chars += typeof data === 'string' ? data.length : 0;
					listener(e);
				}, options);
			}
		};
		countingClasses.set(Socket, Counting);
	}
	return Counting;
}

class OurSocket implements BenchSocket {
	onShout: ((value: unknown) => void) | undefined;
	onPresence: (() => void) | undefined;
	pongs = 0;
	sessions = 0;
	leaves = 0;
	closed = false;
	closeCode: number | undefined;
	lastError: string | undefined;
	readonly #conn: RoomConnection<RoomRpc<BenchApi>>;
	readonly opened: Promise<void>;

	get frames(): number {
		return (this.#conn.socket as CountingSocket).frames;
	}

	get chars(): number {
		return (this.#conn.socket as CountingSocket).chars;
	}

	constructor(url: string, Socket: typeof WebSocket) {
		this.#conn = new RoomConnection<RoomRpc<BenchApi>>(
			url,
			{
				onEvent: (name, data) => {
					if (name === 'bench:shout') return this.onShout?.(data);
					if (name === 'session:list') this.sessions = (data as { sessions: unknown[] }).sessions.length;
					else if (name === 'session:connected') this.sessions++;
					else if (name === 'session:disconnected') {
						this.sessions--;
						this.leaves++;
					}
					else return;
					this.onPresence?.();
				},
				onPong: () => void this.pongs++,
				onClose: (code) => {
					this.closed = true;
					this.closeCode = code;
				},
			},
			{ WebSocket: counting(Socket) },
		);
		this.#conn.socket.addEventListener('error', (e) => void (this.lastError = (e as ErrorEvent).message || e.type));
		this.opened = this.#conn.opened;
	}

	ping(): void {
		this.#conn.ping();
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
	onPresence: (() => void) | undefined;
	frames = 0;
	chars = 0;
	pongs = 0;
	readonly sessions = 0;
	readonly leaves = 0;
	closed = false;
	closeCode: number | undefined;
	lastError: string | undefined;
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
		this.#ws.addEventListener('error', (e) => void (this.lastError = (e as ErrorEvent).message || e.type));
		this.#ws.addEventListener('message', (e) => {
			const raw = e.data as string;
			this.frames++;
			this.chars += raw.length;
			if (raw === PONG) this.pongs++;
			else if (raw.charCodeAt(0) === 98 /* b */) this.onShout?.(JSON.parse(raw.slice(1)));
			else this.#waiting.shift()?.resolve(raw);
		});
		this.#ws.addEventListener('close', (e) => {
			this.closed = true;
			this.closeCode = e.code;
			for (const waiter of this.#waiting.splice(0)) waiter.reject(new Error('socket closed'));
		});
	}

	ping(): void {
		// The counted bare and partyserver rooms answer it in the runtime, as ours does; the plain
		// ones echo it from their handler, which a plain echo would also do.
		if (this.#ws.readyState === 1) this.#ws.send(PING);
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
