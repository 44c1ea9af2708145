/**
 * `RoomConnection`: one WebSocket to one room, speaking the frame protocol. It knows nothing about
 * Svelte, reconnects or tabs: `WebsocketClient` (and the SharedWorker) build those on top of it.
 */
import { CallBatcher } from '../calls/call-batcher.js';
import { PendingBatches, type RefusalHandler } from '../calls/pending-batches.js';
import { deliverOneWay } from '../calls/one-way.js';
import { ConnectionLost, RoomError } from '../rpc/errors.js';
import { EVENTS_HEAD, PING, PONG, ackFrame, eventPayload, parseFrame, readEventLine } from '../rpc/frame.js';
import type { EncodedPayload } from '../rpc/payload-json.js';
import { EVENT_METHOD, type ClientApi, type SessionChanges, type SessionListPart } from '../rpc/protocol.js';
import { Inbox } from './inbox.js';
import { decodeNow, encodePayload, payloadChunk, needsDecoder } from './payload-codec.js';
import { SessionListParts } from './roster.js';

/**
 * What a connection reports. Nothing at all once it has ended (closed, abandoned, or told by the
 * room it is closing): a late frame, pong or close of a socket that was let go reaches no one.
 */
export interface ConnectionHandlers {
	/**
	 * An event from the room, payload decoded. Refused batches also arrive here as `error`. Called as
	 * a plain function, straight from the socket's listener.
	 */
	onEvent(name: string, data: unknown): void;
	/** The room's session list arrived whole and was delivered: the socket is in the room. */
	onListed?(): void;
	/** The socket closed (or never opened). Every pending call has already rejected. */
	onClose?(code: number, reason: string): void;
	/** The room answered a keep-alive ping. */
	onPong?(): void;
}

export interface ConnectionOptions {
	/** Milliseconds a batch of calls may wait for its answer. @default 30000 */
	callTimeoutMs?: number;
	/** The WebSocket constructor; defaults to the global one. */
	WebSocket?: typeof WebSocket;
	/** Hears every frame in (`←`) and out (`→`), cut to a readable length (the `debug` option). */
	debug?: (line: string) => void;
}

/**
 * The room's events, delivered in order. A payload that needs the decoder chunk before it is loaded
 * holds the events after it in its frame until it is delivered (the connection's inbox holds the
 * frames after it).
 */
class EventDelivery {
	#onEvent: ConnectionHandlers['onEvent'];
	#onListed: ConnectionHandlers['onListed'];
	/** A long `session:list` arrives in parts; the handlers get it whole, once. */
	readonly #listParts = new SessionListParts();
	/** The frame's events from one whose payload waits for the decoder chunk on. */
	#held: Promise<void> | undefined;

	constructor(handlers: ConnectionHandlers) {
		this.#onEvent = handlers.onEvent;
		this.#onListed = handlers.onListed;
	}

	/** The connection ended: events still on their way (held behind a chunk) go nowhere. */
	silence(): void {
		this.#onEvent = this.#onListed = () => {};
	}

	/**
	 * Delivers a frame of one event whose payload is plain JSON (`v\n["<name>",<json>]`), nearly
	 * every frame a client reads, straight from the socket; false, having done nothing, for any other
	 * frame (the general path below then reports or holds it). Only while nothing is held, so it
	 * cannot overtake. A delivery runs mostly before the JIT has optimized it, where each call on its
	 * way costs about as much as the socket's own dispatch: this skips the inbox, the frame's kind and
	 * the split into lines.
	 */
	single(frame: string): boolean {
		if (!frame.startsWith(EVENTS_HEAD) || frame.indexOf('\n', EVENTS_HEAD.length) >= 0) return false;
		const event = readEventLine(frame.slice(EVENTS_HEAD.length));
		if (event?.length !== 2) return false;
		this.#deliver(event[0], event[1]);
		return true;
	}

	/** Delivers the events of one frame's body (`lines`); returns what of them is still to be delivered. */
	frame(lines: string): Promise<void> | undefined {
		// Nearly every frame holds one event: no need for `split`'s search and copy.
		if (lines.indexOf('\n') < 0) this.#line(lines);
		else for (const line of lines.split('\n')) this.#line(line);
		const held = this.#held;
		this.#held = undefined;
		return held;
	}

	#line(line: string): void {
		const event = readEventLine(line);
		if (!event) return this.#onEvent('error', { code: 'bad_frame', status: 400, message: 'The room sent an event this client cannot read' });
		// Read by index: destructuring walks an iterator, which shows in a delivery's cost until the JIT has optimized it.
		const name = event[0];
		if (event.length === 2) {
			// Plain JSON, fresh from the frame: the value itself. The room bounded and checked what a
			// browser sent before passing it on, and wrote the rest itself.
			const data = event[1];
			if (this.#held) this.#held = this.#held.then(() => this.#deliver(name, data));
			else this.#deliver(name, data);
			return;
		}
		const decode = () => this.#decode(name, eventPayload(event));
		if (this.#held) this.#held = this.#held.then(decode);
		else if (payloadChunk.now()) decode();
		// If it cannot be loaded, `#decode` reports this event as an `error`.
		else this.#held = payloadChunk.load().then(decode, decode);
	}

	#decode(name: string, payload: EncodedPayload): void {
		let data: unknown;
		try {
			// Fresh from the frame: decoded in place.
			data = decodeNow(payload, true);
		} catch (error) {
			// Dropped, but not silently: the app hears of it as an `error` event.
			const message = `Could not decode the room's ${JSON.stringify(name)} event: ${(error as Error).message}`;
			console.warn(message);
			const unavailable = error instanceof RoomError && error.code === 'payload_unavailable';
			this.#onEvent('error', { code: unavailable ? 'payload_unavailable' : 'bad_payload', status: unavailable ? 0 : 400, message });
			return;
		}
		this.#deliver(name, data);
	}

	/** Hands one event to the handlers; one that cannot be (a malformed roster, say) is reported, and the events after it go on. */
	#deliver(name: string, data: unknown): void {
		try {
			if (name === 'session:list') {
				data = this.#listParts.add(data as SessionListPart<unknown>);
				if (data === undefined) return;
				this.#onEvent(name, data);
				return this.#onListed?.();
			}
			// Coalesced joins and leaves: the handlers hear each as its own event, in order.
			if (name === 'session:changes') {
				for (const change of (data as SessionChanges<unknown>).changes)
					if ('connected' in change) this.#onEvent('session:connected', change.connected);
					else this.#onEvent('session:disconnected', change.disconnected);
				return;
			}
			this.#onEvent(name, data);
		} catch (error) {
			console.error(`@delightstack/websocket: could not deliver the room's ${JSON.stringify(name)} event`, error);
		}
	}
}

/**
 * The client's side of room → client calls (`closing`, `confirm`). Not an RpcTarget: plain calls run
 * on it directly, and a batch that needs a session gets it wrapped as one (`calls/one-way.ts`), so
 * capnweb stays out of the client until something needs it.
 */
class ClientEndpoint implements ClientApi {
	readonly #onClosing: (code: number, reason: string) => void;
	readonly #send: (frame: string) => boolean;
	constructor(onClosing: (code: number, reason: string) => void, send: (frame: string) => boolean) {
		this.#onClosing = onClosing;
		this.#send = send;
	}
	closing(code: number, reason: string): void {
		this.#onClosing(code, reason);
	}
	confirm(nonce: string): void {
		// Frames are handled in order, so everything the room sent before asking has been read.
		void this.#send(ackFrame(nonce));
	}
}

export class RoomConnection<Remote = unknown> {
	readonly socket: WebSocket;
	/** Resolves once the socket is open; rejects with the close if it never opens. */
	readonly opened: Promise<void>;
	readonly #pending: PendingBatches;
	readonly #batcher: CallBatcher<Remote>;
	readonly #endpoint: ClientEndpoint;
	readonly #events: EventDelivery;
	readonly #handlers: ConnectionHandlers;
	readonly #debug: ((line: string) => void) | undefined;
	// Frames are handled strictly in arrival order, so an event the room sent before answering a call
	// reaches the app before that call resolves. Most frames are handled as they arrive; one that
	// needs a capnweb session, or a payload decoder not loaded yet, is delivered asynchronously, and
	// this holds the frames behind it until it is done.
	readonly #inbox = new Inbox(couldNotHandle);
	/** The inbox's handler of every frame, made once: a closure per frame showed in a delivery's cost. */
	readonly #onFrame = (data: string) => this.#frame(data);
	/** Answers to `send` being decoded while the decoder chunk loads: later answers wait behind them. */
	#answers: Promise<void> | undefined;

	constructor(url: string | URL, handlers: ConnectionHandlers, options: ConnectionOptions = {}) {
		const Socket = options.WebSocket ?? globalThis.WebSocket;
		this.#handlers = handlers;
		this.#debug = options.debug;
		this.#events = new EventDelivery(handlers);
		this.#endpoint = new ClientEndpoint(
			(code, reason) => this.#end(code, reason),
			(frame) => this.#sendRaw(frame),
		);
		this.socket = new Socket(url);
		this.#pending = new PendingBatches((frame) => this.#sendRaw(frame), { timeoutMs: options.callTimeoutMs });
		this.#batcher = new CallBatcher<Remote>((messages) => this.#pending.send(messages));

		this.opened = new Promise<void>((resolve, reject) => {
			this.socket.addEventListener('open', () => resolve(), { once: true });
			this.socket.addEventListener(
				'close',
				(e) => reject(Object.assign(new ConnectionLost(`Socket closed before opening (${e.code})`), { closeCode: e.code })),
				{ once: true },
			);
		});
		this.opened.catch(() => {});
		// Every frame: the body is here rather than in a method, a call less per event (see EventDelivery.single).
		this.socket.addEventListener('message', (e) => {
			const data: unknown = e.data;
			this.#debug?.(`← ${typeof data === 'string' ? clip(data) : '(binary frame)'}`);
			// What a socket that ended still delivers (it was replaced, or presumed dead) goes nowhere.
			if (this.#isEnded) return;
			if (data === PONG) return this.#handlers.onPong?.();
			if (typeof data !== 'string') return;
			if (this.#inbox.idle && this.#events.single(data)) return;
			this.#inbox.take(this.#onFrame, data);
		});
		this.socket.addEventListener('close', (e) => this.#end(e.code, e.reason));
	}

	/** Whether the socket has closed, or the room announced it is closing it. */
	get ended(): boolean {
		return this.#isEnded;
	}
	#isEnded = false;

	/** Reports the end once, whichever comes first: the room's closing notice or the close event. */
	#end(code: number, reason: string): void {
		if (this.#stop()) this.#handlers.onClose?.(code, reason);
	}

	/**
	 * Ends the connection, the first time only (returns false after that): events still on their
	 * way go nowhere, and pending calls reject with `ConnectionLost`.
	 */
	#stop(): boolean {
		if (this.#isEnded) return false;
		this.#isEnded = true;
		this.#events.silence();
		this.#pending.failAll(new ConnectionLost());
		return true;
	}

	/** The room's API for calls made in this macrotask (they share one frame). */
	get rpc(): Remote {
		return this.#batcher.main;
	}

	/** Number of call batches waiting for an answer. */
	get pendingBatches(): number {
		return this.#pending.size;
	}

	/**
	 * Sends a custom event to the room's `onMessage`. Resolves with what `onMessage` returned;
	 * rejects with a `RoomError` when refused (rate limited, reserved name, …).
	 */
	async send(event: string, data?: unknown): Promise<unknown> {
		const main = this.#batcher.main as unknown as Record<string, (...args: unknown[]) => Promise<EncodedPayload>>;
		return this.#answer(await main[EVENT_METHOD]!(event, encodePayload(data)));
	}

	/**
	 * An answer to `send`, decoded: at once, unless it or an answer that arrived before it waits for
	 * the payload decoder chunk; answers resolve in the order they arrived either way.
	 */
	#answer(payload: EncodedPayload): unknown {
		if (!this.#answers && !needsDecoder(payload)) return decodeNow(payload, true);
		const decoded = (this.#answers ?? Promise.resolve()).then(() => decodeLater(payload, true));
		const settled: Promise<void> = decoded.then(
			() => this.#answered(settled),
			() => this.#answered(settled),
		);
		this.#answers = settled;
		return decoded;
	}

	#answered(settled: Promise<void>): void {
		if (this.#answers === settled) this.#answers = undefined;
	}

	/**
	 * Sends one batch of capnweb messages that were gathered elsewhere (a tab's own batcher, relayed
	 * by a SharedWorker) under this connection's next call id, and resolves with the room's replies.
	 * Rejects like any call: `ConnectionLost`, `CallTimeout`, or the `RoomError` of a refusal, which
	 * then goes to `onRefused` (whose batch it was) instead of the `error` event.
	 */
	callBatch(messages: string[], onRefused?: RefusalHandler): Promise<string[]> {
		return this.#pending.send(messages, onRefused);
	}

	/** Sends a keep-alive ping; the runtime answers it without waking the room. */
	ping(): boolean {
		return this.#sendRaw(PING);
	}

	close(code = 1000, reason = ''): void {
		this.socket.close(code, reason);
	}

	/**
	 * Gives up on this socket now, without waiting for the closing handshake: pending calls reject
	 * with `ConnectionLost` at once, nothing more is sent or reported (`onClose` does not run: the
	 * caller already knows), and the socket is asked to close. For a socket presumed dead (no pong)
	 * or no longer wanted, whose `close` event may take minutes or never come.
	 */
	abandon(code = 1000, reason = ''): void {
		if (!this.#stop()) return;
		try {
			this.socket.close(code, reason);
		} catch {
			// Already closing, or a code the implementation refuses: either way it is gone.
		}
	}

	#sendRaw(frame: string): boolean {
		if (this.#isEnded || this.socket.readyState !== 1 /* OPEN */) return false;
		this.#debug?.(`→ ${clip(frame)}`);
		this.socket.send(frame);
		return true;
	}

	/** Handles one frame; returns a promise only when it is delivered asynchronously. */
	#frame(data: string): Promise<void> | undefined {
		if (data.startsWith(EVENTS_HEAD)) return this.#events.frame(data.slice(EVENTS_HEAD.length));
		const frame = parseFrame(data);
		if (!frame) return void this.#handlers.onEvent('error', { code: 'bad_frame', status: 400, message: 'The room sent a frame this client cannot read' });
		switch (frame.kind) {
			case 'reply':
				this.#pending.resolve(frame.id, frame.messages);
				return undefined;
			case 'refused':
				this.#pending.refuse(frame.id, RoomError.from(frame.error), (error) => this.#handlers.onEvent('error', error.toJSON()));
				return undefined;
			case 'push':
				// Done when every call ran (a session's delivery is asynchronous).
				return deliverOneWay(frame.messages, this.#endpoint);
		}
		// A kind only browsers send (a call, a read confirmation): nothing for a client to do.
		return undefined;
	}
}

function couldNotHandle(error: unknown): void {
	console.error('@delightstack/websocket: could not handle a frame', error);
}

/** Frames are cut at this many characters in debug lines. */
const DEBUG_FRAME_CHARS = 200;

/** A frame for a debug line: at most {@link DEBUG_FRAME_CHARS}, saying how much was cut. */
function clip(frame: string): string {
	return frame.length <= DEBUG_FRAME_CHARS ? frame : `${frame.slice(0, DEBUG_FRAME_CHARS)}… (${frame.length} chars)`;
}

/** Decodes `payload`, loading the decoder first if it needs it. Rejects like `decodeNow`, or with the load's `RoomError`. */
async function decodeLater<T = unknown>(payload: EncodedPayload, fresh = false): Promise<T> {
	if (needsDecoder(payload)) await payloadChunk.load();
	return decodeNow<T>(payload, fresh);
}
