/**
 * One client socket per implementation behind the same small interface, so a scenario is written
 * once and only the client differs.
 *
 * - ours: `WebsocketClient` from `@delightstack/websocket/client`, as a Svelte app uses it (runes
 *   compiled for the browser, presence kept in `sessions`): `ws.connect(room)`, `ws.rpc.echo(x)`,
 *   `void ws.rpc.shout(x)` (fire and forget), `ws.on('bench:shout', …)`; its own keep-alive pings
 *   and reconnects.
 * - bare, party (and `bare-async`): a plain WebSocket with the least protocol that does the job
 *   (`shared/plain.ts`), and the same JSON work a real app would do on each side of it:
 *   `JSON.stringify(x)` is echoed back and parsed; `"b" + JSON.stringify(x)` is broadcast to every
 *   socket and parsed by each receiver.
 *
 * Every socket is opened the way a browser page of the app opens it: with the app's `Origin`, and
 * offering permessage-deflate only in `--deflate` runs.
 */
import { WebsocketClient } from '@delightstack/websocket/client';
import { isOurs, roomPath, type Impl } from '../shared/impl.js';
import { BROADCAST, PING, PONG } from '../shared/plain.js';
import type { BenchApi, BenchEvents, BenchMeta } from '../worker/ours.js';

export interface BenchSocket {
	/** The first WebSocket opened (after up to three attempts, 1 s and 2 s apart); rejects if none did. */
	readonly opened: Promise<void>;
	/** Ours: joined (the room's session list arrived, `connect()` resolved). The baselines: opened. */
	readonly joined: Promise<void>;
	/** WebSockets constructed so far: 1 unless an upgrade failed and was tried again. */
	readonly attempts: number;
	/** One echo round trip of `value`. */
	call<T>(value: T): Promise<T>;
	/** Asks the room to broadcast `value` to every socket, this one included. */
	shout(value: unknown): void;
	/** Every broadcast this socket receives, in arrival order. */
	onShout: ((value: unknown) => void) | undefined;
	/** Every frame received (events, replies, presence, pongs) and their length in characters. */
	readonly frames: number;
	readonly chars: number;
	/** Keep-alive pings sent and pongs received (`shared/plain.ts`). */
	readonly pings: number;
	readonly pongs: number;
	/** How many sessions this socket knows are in the room (ours: `ws.sessions.length`; the baselines have no presence: 0). */
	readonly sessions: number;
	/** `session:disconnected` announcements received. */
	readonly leaves: number;
	/** Called whenever `sessions` may have changed. */
	onPresence: (() => void) | undefined;
	/** Whether the connection has dropped (or never came up), and with which close code. */
	readonly closed: boolean;
	readonly closeCode: number | undefined;
	/** Why the last upgrade failed, if one did. */
	readonly lastError: string | undefined;
	close(): void;
}

export interface ConnectOptions {
	/** Offer permessage-deflate (`--deflate` runs), and reach our room's `compression: true` class. */
	deflate: boolean;
	/** The room's counted variant (`bench/worker/counted.ts`). */
	counted?: boolean;
	/**
	 * Milliseconds between keep-alive pings. Ours: the client's `pingIntervalMs` (@default the
	 * library's 30 s); the baselines: the bench pings as often (@default never).
	 */
	pingIntervalMs?: number;
}

export function connect(impl: Impl, wsOrigin: string, room: string, options: ConnectOptions): BenchSocket {
	const url = `${wsOrigin}${roomPath(impl, options.deflate)}?room=${encodeURIComponent(room)}${options.counted ? '&variant=counted' : ''}`;
	return isOurs(impl) ? new OurSocket(url, room, options) : new PlainSocket(url, options);
}

/** What every bench socket counts (see `BenchSocket`). */
interface Counts {
	frames: number;
	chars: number;
	pings: number;
	pongs: number;
	attempts: number;
}

/** The counts of a bench socket, kept by its `browserLikeSocket`s. */
abstract class CountingSocket {
	protected readonly counts: Counts = { frames: 0, chars: 0, pings: 0, pongs: 0, attempts: 0 };

	get frames(): number {
		return this.counts.frames;
	}
	get chars(): number {
		return this.counts.chars;
	}
	get pings(): number {
		return this.counts.pings;
	}
	get pongs(): number {
		return this.counts.pongs;
	}
	get attempts(): number {
		return this.counts.attempts;
	}
}

/**
 * Bun's WebSocket as a page of the app opens it (its `Origin`; permessage-deflate offered only when
 * `deflate`), counting into `counts`: every socket it makes, every frame in (inside the
 * connection's own `message` listener rather than in a second one, as the baselines count in their
 * only listener: each listener is a dispatch per frame), every ping out.
 */
function browserLikeSocket(deflate: boolean, counts: Counts): typeof WebSocket {
	return class BrowserLikeWebSocket extends WebSocket {
		constructor(url: string | URL) {
			const origin = new URL(url).origin.replace(/^ws/, 'http');
			// Bun's options overload is shadowed by the DOM lib's `protocols` one in this tsconfig.
			super(url, { headers: { origin }, perMessageDeflate: deflate } satisfies Bun.WebSocketOptions as unknown as string[]);
			counts.attempts++;
			this.addEventListener('open', () => likeForLike(this, deflate), { once: true });
		}
		override addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void {
			if (type !== 'message' || typeof listener !== 'function') return super.addEventListener(type, listener, options);
			super.addEventListener(
				type,
				(e: Event) => {
					const { data } = e as MessageEvent;
					counts.frames++;
					if (typeof data === 'string') {
						counts.chars += data.length;
						if (data === PONG) counts.pongs++;
					}
					listener(e);
				},
				options,
			);
		}
		override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
			if (data === PING) counts.pings++;
			super.send(data);
		}
	};
}

/**
 * Never one side compressed and the other not: a socket whose negotiated extensions differ from
 * the run's configuration stops its client process (exit 2: the harness failed, see `main.ts`).
 */
function likeForLike(ws: WebSocket, deflate: boolean): void {
	if (ws.extensions.includes('permessage-deflate') === deflate) return;
	process.stderr.write(`[client] ${ws.url} negotiated "${ws.extensions}" in a run with${deflate ? '' : 'out'} --deflate: not like for like\n`);
	process.exit(2);
}

/** Attempts before an upgrade counts as failed, and the wait before each retry (as the library's client backs off). */
const ATTEMPTS = 3;
const retryDelayMs = (attempt: number) => 1000 * 2 ** (attempt - 1);

class OurSocket extends CountingSocket implements BenchSocket {
	onShout: ((value: unknown) => void) | undefined;
	onPresence: (() => void) | undefined;
	leaves = 0;
	closed = false;
	closeCode: number | undefined;
	lastError: string | undefined;
	readonly opened: Promise<void>;
	readonly joined: Promise<void>;
	readonly #ws: WebsocketClient<BenchMeta, BenchEvents, BenchApi>;

	constructor(url: string, room: string, { deflate, pingIntervalMs }: ConnectOptions) {
		super();
		const opened = Promise.withResolvers<void>();
		const Socket = browserLikeSocket(deflate, this.counts);
		this.#ws = new WebsocketClient<BenchMeta, BenchEvents, BenchApi>({
			url: () => url,
			shared: false,
			WebSocket: class extends Socket {
				constructor(url: string | URL) {
					super(url);
					this.addEventListener('open', () => opened.resolve(), { once: true });
				}
			},
			// None asked for (the baselines then never ping): the library's default, as in an app.
			pingIntervalMs: pingIntervalMs || undefined,
			// Retries as the baselines' sockets do (after ~1 s and ~2 s), then gives up.
			reconnect: { maxAttempts: ATTEMPTS - 1 },
			// A crowd's clients share one core here (browsers each have their own): while a big room
			// fills, a process may fall behind on its frames by more than the library's 10 s for the
			// roster or for a pong, which would drop sockets that are fine.
			connectTimeoutMs: 120_000,
			pongTimeoutMs: 120_000,
		});
		this.#ws.on('bench:shout', (value) => this.onShout?.(value));
		const presence = () => this.onPresence?.();
		this.#ws.on('session:list', presence);
		this.#ws.on('session:connected', presence);
		// Window presence: the counts change by update, not by announcement.
		this.#ws.on('session:update', presence);
		this.#ws.on('session:disconnected', () => {
			this.leaves++;
			presence();
		});
		this.#ws.on('ws:disconnected', ({ code }) => this.#dropped(code));
		this.joined = this.#ws.connect(room);
		this.joined.catch((error: unknown) => {
			this.lastError = error instanceof Error ? error.message : String(error);
			this.#dropped(this.closeCode ?? 1006);
			opened.reject(error);
		});
		this.opened = opened.promise;
		this.opened.catch(() => {});
	}

	#dropped(code: number): void {
		this.closed = true;
		this.closeCode = code;
	}
	get sessions(): number {
		// The count, O(1): the crowd asks after every announcement, and `ws.sessions.length` would
		// copy the whole list each time (an app renders the list once per change, not per read).
		return this.#ws.presence.sessionCount;
	}

	call<T>(value: T): Promise<T> {
		return this.#ws.rpc.echo(value) as Promise<T>;
	}

	shout(value: unknown): void {
		// The delivery to this socket is what the sender waits for, as with the baselines, whose `b`
		// frame gets no answer: a call nobody awaits asks for none (README, "Fire and forget"), so the
		// room sends the broadcast and no `r<id>` frame, as an app broadcasting without needing the
		// method's result does.
		void this.#ws.rpc.shout(value);
	}

	close(): void {
		this.#ws.destroy();
	}
}

class PlainSocket extends CountingSocket implements BenchSocket {
	onShout: ((value: unknown) => void) | undefined;
	onPresence: (() => void) | undefined;
	readonly sessions = 0;
	readonly leaves = 0;
	closed = false;
	closeCode: number | undefined;
	lastError: string | undefined;
	readonly opened: Promise<void>;
	readonly joined: Promise<void>;
	readonly #url: string;
	readonly #Socket: typeof WebSocket;
	readonly #pingIntervalMs: number;
	#ws: WebSocket | undefined;
	// The room echoes in order on one socket: answers match calls first in, first out.
	readonly #waiting: Array<{ resolve(raw: string): void; reject(error: Error): void }> = [];

	constructor(url: string, { deflate, pingIntervalMs = 0 }: ConnectOptions) {
		super();
		this.#url = url;
		this.#pingIntervalMs = pingIntervalMs;
		this.#Socket = browserLikeSocket(deflate, this.counts);
		this.opened = this.joined = this.#open();
		this.opened.catch(() => {});
	}

	/** Opens the socket, trying again after 1 s and 2 s when an upgrade fails (as a reconnecting client would). */
	async #open(): Promise<void> {
		for (let attempt = 1; ; attempt++) {
			const ws = new this.#Socket(this.#url);
			ws.addEventListener('error', (e) => void (this.lastError = (e as ErrorEvent).message || e.type));
			const code = await new Promise<number | undefined>((resolve) => {
				ws.addEventListener('open', () => resolve(undefined), { once: true });
				ws.addEventListener('close', (e) => resolve(e.code), { once: true });
			});
			if (code === undefined) return this.#listen(ws);
			if (attempt === ATTEMPTS) {
				this.closed = true;
				this.closeCode = code;
				throw new Error(`closed before opening (${code})`);
			}
			await Bun.sleep(retryDelayMs(attempt));
		}
	}

	#listen(ws: WebSocket): void {
		this.#ws = ws;
		ws.addEventListener('message', (e) => {
			const raw = e.data as string;
			if (raw === PONG) return;
			if (raw.startsWith(BROADCAST)) this.onShout?.(JSON.parse(raw.slice(1)));
			else this.#waiting.shift()?.resolve(raw);
		});
		const keepAlive = this.#pingIntervalMs > 0 ? setInterval(() => this.#ping(), this.#pingIntervalMs) : undefined;
		ws.addEventListener('close', (e) => {
			clearInterval(keepAlive);
			this.closed = true;
			this.closeCode = e.code;
			for (const waiter of this.#waiting.splice(0)) waiter.reject(new Error('socket closed'));
		});
	}

	/** The keep-alive ping our client sends, which the counted rooms answer in the runtime. */
	#ping(): void {
		if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(PING);
	}

	call<T>(value: T): Promise<T> {
		return new Promise<T>((resolve, reject) => {
			this.#waiting.push({ resolve: (raw) => resolve(JSON.parse(raw) as T), reject });
			this.#ws!.send(JSON.stringify(value));
		});
	}

	shout(value: unknown): void {
		this.#ws!.send(BROADCAST + JSON.stringify(value));
	}

	close(): void {
		this.#ws?.close(1000);
	}
}
