/**
 * `WebsocketServer`: one Durable Object per room. Sockets are accepted with the Hibernation API, so
 * the room sleeps between messages and costs nothing while idle; everything it must remember about a
 * socket (session, metadata, rate-limit buckets) lives in that socket's attachment.
 */
import { DurableObject } from 'cloudflare:workers';
import { answerBatch, encodeCalls, eventMessage, singleCall, toWireError, type CallBatch } from '../rpc/batch.js';
import { RoomError, type RoomErrorData } from '../rpc/errors.js';
import { PING, PONG, pushFrame, readHeader, refusedFrame, replyFrame } from '../rpc/frame.js';
import { decodePayload, encodePayload, type EncodedPayload } from '../rpc/payload.js';
import { CloseCode, EVENT_METHOD, HANDOFF_HEADER, type Handoff } from '../rpc/protocol.js';
import {
	isReservedEvent,
	type AuthSessionMeta,
	type EntityAction,
	type EntityChangeInput,
	type EntityEvent,
	type EventMap,
	type LoggedChange,
	type RoomEvents,
	type Session,
	type SessionInfo,
} from '../rpc/types.js';
import { RoomApi, callableNames, receiveEvent } from './api.js';
import { ChangeLog, DEFAULT_CHANGE_LOG, type ChangeLogOptions } from './change-log.js';
import { fullBucket, takeAll, type BucketPolicy } from './limits.js';
import { PresenceQueue } from './presence.js';
import { utf8Length } from './frame-size.js';
import { Roster } from './roster.js';
import { MAX_ATTACHMENT_BYTES, SessionStore, sessionIdFromTags, sessionTag, tagsFor, userTag, type SessionState } from './sessions.js';

/** Limits a room enforces on each socket. Override any of them with `static options`. */
export interface RoomOptions {
	/** Largest frame accepted from a client, in UTF-8 bytes. Larger → `payload_too_large` (413). @default 65536 */
	maxFrameBytes: number;
	/** Every call and event costs one token. @default 30 tokens, one back every 10 s */
	rateLimit: BucketPolicy;
	/**
	 * Events whose name starts with one of `prefixes` (e.g. `'cursor:'`) spend from this cheaper
	 * bucket instead. @default no prefixes; 60 tokens, one back every second
	 */
	eventRateLimit: BucketPolicy & { prefixes: readonly string[] };
	/** How much entity-change history a room keeps for clients that reconnect. @default 1000 changes, 24 h */
	changeLog: ChangeLogOptions;
	/**
	 * Joins and leaves within this many milliseconds go out as one frame (each still its own
	 * event). Any other event flushes them first, so presence is never overtaken. 0 disables it.
	 * @default 50
	 */
	presenceBatchMs: number;
	/**
	 * Whether a socket may use permessage-deflate when the browser offers it (browsers always do).
	 * Off by default, as in `ws` and Socket.IO: the runtime compresses every frame separately for
	 * every socket, so compression multiplies a broadcast's CPU by the room's size, and each
	 * compressing socket keeps its own zlib state (about 200 KiB per socket in workerd). Realtime
	 * frames are small and Cloudflare does not bill egress; turn it on for rooms that send large,
	 * repetitive frames to few sockets.
	 * @default false
	 */
	compression: boolean;
}

export const DEFAULT_ROOM_OPTIONS: RoomOptions = {
	maxFrameBytes: 64 * 1024,
	rateLimit: { capacity: 30, refillEveryMs: 10_000 },
	eventRateLimit: { capacity: 60, refillEveryMs: 1_000, prefixes: [] },
	changeLog: DEFAULT_CHANGE_LOG,
	presenceBatchMs: 50,
	compression: false,
};

/**
 * The 101 response's `Sec-WebSocket-Extensions` is the room's answer to the browser's offer: the
 * runtime keeps the permessage-deflate parameters it names and negotiates nothing else, so a
 * value naming no permessage-deflate declines compression (the header then never reaches the
 * browser). Without the header the runtime would accept the offer as made.
 */
const DECLINE_EXTENSIONS = { 'Sec-WebSocket-Extensions': 'none' };

/** Where `sendTo` delivers: a session id, or every socket of a user id. */
export type SendTarget = string | { session: string } | { user: string };

/** What the room's constructor reads from the class; see `static api` and `static options`. */
interface RoomClass {
	api: typeof RoomApi<any>;
	options: Partial<RoomOptions>;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

function jsonError(status: number, code: string, message: string): Response {
	return new Response(JSON.stringify({ status, code, message } satisfies RoomErrorData & { status: number }), {
		status,
		headers: JSON_HEADERS,
	});
}

/**
 * The room. Extend it, export the subclass from your Worker, and bind it as a Durable Object.
 *
 * ```ts
 * export class ChatRoom extends WebsocketServer<Meta, Events> {
 *   static api = ChatApi;
 *   onConnect(session) { … }
 * }
 * ```
 *
 * Browsers reach only `static api`'s methods. Server code (SvelteKit endpoints, other Workers)
 * reaches this class's public methods — `broadcast`, `sendTo`, `getSessions`, `kick` — through
 * Workers RPC on the namespace stub.
 */
export class WebsocketServer<
	Meta = AuthSessionMeta,
	Events extends EventMap = EventMap,
	Env = unknown,
> extends DurableObject<Env> {
	/** The class whose methods browsers may call. The default exposes nothing but `send()` events. */
	static api: typeof RoomApi<any> = RoomApi;
	/** Per-room limits; merged over {@link DEFAULT_ROOM_OPTIONS}. */
	static options: Partial<RoomOptions> = {};

	readonly #sessions = new SessionStore<Meta>();
	/** Each session's encoded `session:list` entry, so a join does not encode the whole room again. */
	readonly #roster = new Roster<Meta>();
	#options?: RoomOptions;
	#changes?: ChangeLog;
	#presence?: PresenceQueue;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		// The runtime answers pings itself: keep-alive never wakes the room.
		ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
		for (const ws of this.#sessions.restore(ctx.getWebSockets())) this.#discardCorrupt(ws);
	}

	// ---------------------------------------------------------------------------------------------
	// Hooks: override these.

	/**
	 * A socket joined and was sent the session list; the others have not been told yet. Throwing
	 * here refuses the socket (closed with 1011, never announced).
	 */
	onConnect(_session: Session<Meta>): void | Promise<void> {}

	/** A socket left (closed, errored, dropped or kicked). Called once per session. */
	onDisconnect(_session: Session<Meta>): void | Promise<void> {}

	/**
	 * A custom event from a client's `send(event, data)`. What it returns resolves that `send()`
	 * promise for the sender only. A throw is logged and rejects the sender's `send()`.
	 */
	onMessage(_session: Session<Meta>, _event: string, _data: unknown): unknown {
		return undefined;
	}

	/**
	 * Whether `session` may see an entity change. `false` withholds it from that session (live and
	 * in catch-up); a throw withholds it from that session only and is logged.
	 */
	filterEntityChange(_change: { action: EntityAction; entity_type: string; id: string | number }, _session: Session<Meta>): boolean {
		return true;
	}

	// ---------------------------------------------------------------------------------------------
	// Server-side API (Workers RPC from other Worker code).

	/** Sends an event to every socket in the room, except the sessions in `exclude`. */
	broadcast<E extends keyof Events & string>(
		event: E,
		data: Events[E],
		options: { exclude?: string | readonly string[] } = {},
	): number {
		const exclude = options.exclude === undefined ? undefined : new Set([options.exclude].flat());
		return this.#deliver(this.#eventFrame(event, data), (state) => !exclude?.has(state.session.ws_session_id));
	}

	/** Sends an event to one session, or to every socket of one user. Returns how many got it. */
	sendTo<E extends keyof Events & string>(target: SendTarget, event: E, data: Events[E]): number {
		const tags =
			typeof target === 'string'
				? [sessionTag(target), userTag(target)]
				: 'session' in target
					? [sessionTag(target.session)]
					: [userTag(target.user)];
		const sockets = new Set(tags.flatMap((tag) => this.ctx.getWebSockets(tag)));
		if (sockets.size === 0) return 0;
		this.#flushPresence();
		const frame = this.#eventFrame(event, data);
		let sent = 0;
		for (const ws of sockets) if (this.#sessions.get(ws) && this.#send(ws, frame)) sent++;
		return sent;
	}

	/**
	 * Records an entity change and sends it to every session allowed to see it, as
	 * `entity:created | entity:updated | entity:deleted`. Call it after your database commits.
	 * Returns the change's room sequence number.
	 */
	entityChanged(action: EntityAction, entity_type: string, id: string | number, data?: unknown, sparse?: unknown): number {
		return this.entitiesChanged([{ action, entity_type, id, data, sparse }])[0]!;
	}

	/** Records several changes atomically, in order (one RPC per transaction); returns their numbers. */
	entitiesChanged(changes: readonly EntityChangeInput[]): number[] {
		for (const change of changes) {
			if (!ENTITY_ACTIONS.has(change.action)) throw new RoomError('bad_request', `Unknown entity action "${String(change.action)}"`, 400);
		}
		const log = this.#changeLog();
		const now = Date.now();
		const logged = this.ctx.storage.transactionSync(() => log.append(changes, now));
		for (const change of logged) {
			const frame = this.#eventFrame(`entity:${change.action}`, this.#entityEvent(change));
			this.#deliver(frame, (state) => this.#maySee(change, state.session));
		}
		return logged.map((c) => c.seq);
	}

	/**
	 * The number of the latest entity change (0 before the first). A page's load function reads it
	 * *before* reading the data it renders and passes it to `ws.connect(room, { since })`: the room
	 * then replays whatever changed in between, so the page misses nothing.
	 */
	changeHead(): number {
		return this.#changeLog().head();
	}

	/** Everyone in the room right now. */
	getSessions(): Session<Meta>[] {
		return [...this.#sessions.states()].map((s) => s.session);
	}

	/**
	 * Closes a session with {@link CloseCode.Kicked} (the client does not reconnect) and announces it
	 * as disconnected. Returns whether the session was here.
	 */
	async kick(sessionId: string, reason = 'Removed from the room'): Promise<boolean> {
		const ws = this.ctx.getWebSockets(sessionTag(sessionId)).find((s) => this.#sessions.get(s));
		if (!ws) return false;
		this.#close(ws, CloseCode.Kicked, reason);
		await this.#leave(ws);
		return true;
	}

	// ---------------------------------------------------------------------------------------------
	// The runtime's entry points.

	/** Accepts a socket handed over by the handle (`createWebsocketHandle`). */
	override async fetch(request: Request): Promise<Response> {
		if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
			return jsonError(426, 'upgrade_required', 'This endpoint only accepts WebSocket upgrades');
		}
		const handoff = readHandoff<Meta>(request.headers.get(HANDOFF_HEADER));
		if (typeof handoff === 'string') return jsonError(400, 'bad_handoff', handoff);

		const now = Date.now();
		const options = this.#limits();
		const session: Session<Meta> = {
			ws_session_id: crypto.randomUUID(),
			room: handoff.room,
			meta: handoff.meta,
			connected_at: now,
		};
		const state: SessionState<Meta> = {
			session,
			buckets: { calls: fullBucket(options.rateLimit, now), events: fullBucket(options.eventRateLimit, now) },
		};
		const attachmentBytes = utf8Length(JSON.stringify(state));
		if (attachmentBytes > MAX_ATTACHMENT_BYTES - 256) {
			return jsonError(400, 'meta_too_large', `Session metadata is ${attachmentBytes} bytes; a session may carry at most ${MAX_ATTACHMENT_BYTES - 256}`);
		}

		const { 0: client, 1: server } = new WebSocketPair();
		try {
			// Before accepting: a socket the platform refuses to describe is never half-registered.
			server.serializeAttachment({ v: 1, ...state });
		} catch (error) {
			return jsonError(400, 'meta_too_large', `Session metadata cannot be stored: ${(error as Error).message}`);
		}
		this.ctx.acceptWebSocket(server, tagsFor(session));
		this.#sessions.add(server, state);

		// The list may take several frames (see `Roster`); all of them go out before `listed`, in this
		// same synchronous run, so no presence change can fall between the list and the queue's mark.
		for (const frame of this.#roster.frames(this.#sessions.states())) this.#send(server, frame);
		this.#presenceQueue().listed(server);
		const since = new URL(request.url).searchParams.get('since');
		if (since !== null) {
			try {
				this.#catchUp(server, session, since);
			} catch (error) {
				// A room without SQLite storage (or a broken log) still serves presence and RPC.
				console.error('Could not replay entity changes; is this Durable Object SQLite-backed?', error);
			}
		}
		try {
			await this.onConnect(session);
		} catch (error) {
			console.error('onConnect threw; refusing the socket', error);
			this.#sessions.remove(server);
			this.#close(server, CloseCode.InternalError, 'The room could not set up this session');
			return this.#upgraded(client);
		}
		if (this.#sessions.get(server)) {
			this.#announce('session:connected', { ...publicInfo(session), num_connections: this.#sessions.size }, server);
		}
		return this.#upgraded(client);
	}

	/** The 101 response handing `client` to the browser; it also answers the compression offer. */
	#upgraded(client: WebSocket): Response {
		return new Response(null, { status: 101, webSocket: client, headers: this.#limits().compression ? undefined : DECLINE_EXTENSIONS });
	}

	override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
		const state = this.#sessions.get(ws);
		if (!state) return;
		if (typeof raw !== 'string') return this.#refuse(ws, -1, 'bad_request', 400, 'Binary frames are not supported');

		const header = readHeader(raw);
		const id = header?.kind === 'call' ? header.id : -1;
		const { maxFrameBytes } = this.#limits();
		// UTF-8 is at most 3 bytes per UTF-16 unit: only count bytes when the frame might be too big.
		if (raw.length * 3 > maxFrameBytes && utf8Length(raw) > maxFrameBytes) {
			return this.#refuse(ws, id, 'payload_too_large', 413, `Frame exceeds ${maxFrameBytes} bytes`);
		}
		if (id < 0) return this.#refuse(ws, -1, 'bad_request', 400, 'Expected a call frame');

		const batch = this.#inspect(raw.slice(header!.body));
		if (batch instanceof RoomError) return this.#refuse(ws, id, batch.code, batch.status, batch.message);

		const options = this.#limits();
		const now = Date.now();
		const spent = takeAll(
			[
				{ state: state.buckets.calls, policy: options.rateLimit, cost: batch.calls },
				{ state: state.buckets.events, policy: options.eventRateLimit, cost: batch.cheapEvents },
			],
			now,
		);
		if (!spent) return this.#refuse(ws, id, 'rate_limited', 429, 'Too many messages; slow down');
		state.buckets = { calls: spent[0]!, events: spent[1]! };
		this.#sessions.save(ws, state);

		const Api = (this.constructor as unknown as RoomClass).api;
		const replies = await answerBatch(batch, new Api(this, state.session), { onSendError: toWireError });
		this.#send(ws, replyFrame(id, replies));
	}

	override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
		// Complete the closing handshake so the client sees the real code instead of 1006.
		try {
			ws.close(code === 1005 || code === 1006 ? CloseCode.Normal : code, reason);
		} catch {
			// The runtime may already have answered the close.
		}
		await this.#leave(ws);
	}

	override async webSocketError(ws: WebSocket): Promise<void> {
		await this.#leave(ws);
	}

	// ---------------------------------------------------------------------------------------------
	// Internals. `#private` members are invisible to Workers RPC and to browsers.

	/** `send(event, data)` from a browser, via `RoomApi`'s reserved method. */
	async [receiveEvent](session: Session<Meta>, event: string, payload: EncodedPayload): Promise<EncodedPayload> {
		let data: unknown;
		try {
			// Fresh from the frame: decoded in place.
			data = decodePayload(payload, true);
		} catch {
			throw new RoomError('bad_request', 'The event payload could not be decoded', 400);
		}
		try {
			return encodePayload(await this.onMessage(session, event, data));
		} catch (error) {
			console.error(`onMessage threw for event "${event}"`, error);
			throw new RoomError('handler_failed', `The room failed to handle "${event}"`, 500);
		}
	}

	#changeLog(): ChangeLog {
		return (this.#changes ??= new ChangeLog(this.ctx.storage.sql, this.#limits().changeLog));
	}

	/**
	 * Replays what a (re)joining socket missed, in one frame, before any live change can reach it:
	 * the changes after `since`, then `entity:synced`; or `entity:resync` when the log no longer
	 * reaches back that far. `since=-1` asks only for the current head.
	 */
	#catchUp(ws: WebSocket, session: Session<Meta>, raw: string): void {
		const since = Number(raw);
		const log = this.#changeLog();
		const room = session.room;
		const valid = Number.isSafeInteger(since) && since >= -1;
		const result = !valid
			? ({ resync: true, changes: [], head: log.head() } as const)
			: since === -1
				? ({ resync: false, changes: [], head: log.head() } as const)
				: log.since(since, Date.now());
		if (result.resync) {
			this.#send(ws, this.#eventFrame('entity:resync', { room, head: result.head }));
			return;
		}
		const messages: string[] = [];
		for (const change of result.changes) {
			if (this.#maySee(change, session)) messages.push(eventMessage(`entity:${change.action}`, encodePayload(this.#entityEvent(change, room))));
		}
		messages.push(eventMessage('entity:synced', encodePayload({ room, head: result.head })));
		this.#send(ws, pushFrame(messages));
	}

	#entityEvent(change: LoggedChange, room = this.#anyRoomName()): EntityEvent {
		const event: EntityEvent = { room, seq: change.seq, entity_type: change.entity_type, id: change.id };
		if (change.data !== undefined) event.data = change.data;
		if (change.sparse !== undefined) event.sparse = change.sparse;
		return event;
	}

	/** The room's name as the handle gave it (every session of a room carries the same one). */
	#anyRoomName(): string {
		for (const state of this.#sessions.states()) return state.session.room;
		return '';
	}

	#maySee(change: LoggedChange, session: Session<Meta>): boolean {
		try {
			return this.filterEntityChange({ action: change.action, entity_type: change.entity_type, id: change.id }, session) !== false;
		} catch (error) {
			console.error(`filterEntityChange threw for ${change.entity_type}/${String(change.id)}; withheld from ${session.ws_session_id}`, error);
			return false;
		}
	}

	#limits(): RoomOptions {
		if (!this.#options) {
			const own = (this.constructor as unknown as RoomClass).options;
			this.#options = {
				...DEFAULT_ROOM_OPTIONS,
				...own,
				eventRateLimit: { ...DEFAULT_ROOM_OPTIONS.eventRateLimit, ...own.eventRateLimit },
				changeLog: { ...DEFAULT_ROOM_OPTIONS.changeLog, ...own.changeLog },
			};
		}
		return this.#options;
	}

	/**
	 * Reads a call batch and checks it before anything runs: every message well-formed, every
	 * top-level call aimed at a declared API method, no reserved event names. Counts what it costs.
	 * The batch most frames carry (one plain call and its pull) is read without parsing it.
	 */
	#inspect(body: string): (CallBatch & { calls: number; cheapEvents: number }) | RoomError {
		const lines = body === '' ? [] : body.split('\n');
		const single = singleCall(lines);
		if (single) {
			const cost = this.#checkCall(single.method, single.args);
			if (cost instanceof RoomError) return cost;
			return { lines, single, calls: cost === 'calls' ? 1 : 0, cheapEvents: cost === 'cheapEvents' ? 1 : 0 };
		}
		const messages: unknown[] = [];
		let calls = 0;
		let cheapEvents = 0;
		for (const line of lines) {
			let message: unknown;
			try {
				message = JSON.parse(line);
			} catch {
				return new RoomError('bad_request', 'A message in the batch is not valid JSON', 400);
			}
			if (!Array.isArray(message) || !CLIENT_MESSAGES.has(message[0])) {
				return new RoomError('bad_request', 'A message in the batch is not a capnweb call', 400);
			}
			messages.push(message);
			if (message[0] !== 'push') continue;
			const target = topLevelCall(message[1]);
			const cost = target === undefined ? 'calls' : this.#checkCall(target.method, target.args);
			if (cost instanceof RoomError) return cost;
			if (cost === 'calls') calls++;
			else cheapEvents++;
		}
		return { lines, messages, calls, cheapEvents };
	}

	/** Whether a top-level call may run, and which bucket pays for it. */
	#checkCall(method: unknown, args: readonly unknown[] | undefined): 'calls' | 'cheapEvents' | RoomError {
		if (typeof method !== 'string' || !callableNames((this.constructor as unknown as RoomClass).api).has(method)) {
			return new RoomError('unknown_method', `The room has no method "${String(method)}"`, 404);
		}
		if (method !== EVENT_METHOD) return 'calls';
		const event = args?.[0];
		if (typeof event !== 'string' || event === '') {
			return new RoomError('bad_request', 'An event needs a non-empty string name', 400);
		}
		if (isReservedEvent(event)) {
			return new RoomError('forbidden_event', `Clients may not send "${event}": only the room sends it`, 403);
		}
		return this.#limits().eventRateLimit.prefixes.some((p) => event.startsWith(p)) ? 'cheapEvents' : 'calls';
	}

	#eventFrame<E extends string>(event: E, data: unknown): string {
		return pushFrame([eventMessage(event, encodePayload(data))]);
	}

	/** Sends one frame to every session that passes `filter`; drops sockets that fail. */
	#deliver(frame: string, filter: (state: SessionState<Meta>) => boolean): number {
		this.#flushPresence();
		let sent = 0;
		let dead: WebSocket[] | undefined;
		for (const ws of this.#sessions.sockets()) {
			if (!filter(this.#sessions.get(ws)!)) continue;
			if (this.#send(ws, frame)) sent++;
			else (dead ??= []).push(ws);
		}
		if (dead) for (const ws of dead) void this.#leave(ws);
		return sent;
	}

	#send(ws: WebSocket, frame: string): boolean {
		try {
			ws.send(frame);
			return true;
		} catch {
			return false;
		}
	}

	/** Closes a socket from the room's side, with the notice the client relies on (see `RoomListener.closing`). */
	#close(ws: WebSocket, code: number, reason: string): void {
		// A close reason is limited to 123 bytes.
		const short = utf8Length(reason) > 123 ? reason.slice(0, 40) : reason;
		this.#send(ws, pushFrame(encodeCalls([['closing', code, short]])));
		try {
			ws.close(code, short);
		} catch {
			// Already closing.
		}
	}

	#refuse(ws: WebSocket, id: number, code: string, status: number, message: string): void {
		const error: RoomErrorData = { code, status, message };
		this.#send(ws, id >= 0 ? refusedFrame(id, error) : this.#eventFrame('error', error));
	}

	/** Removes a session and announces it, exactly once however many ways the socket ended. */
	async #leave(ws: WebSocket): Promise<void> {
		const state = this.#sessions.remove(ws);
		if (!state) return;
		this.#announceLeft(publicInfo(state.session));
		try {
			await this.onDisconnect(state.session);
		} catch (error) {
			console.error('onDisconnect threw', error);
		}
	}

	#announceLeft(info: SessionInfo<Meta>): void {
		this.#announce('session:disconnected', { ...info, num_connections: this.#sessions.size });
	}

	#announce(event: 'session:connected' | 'session:disconnected', data: RoomEvents<Meta>[typeof event], joiner?: WebSocket): void {
		this.#presenceQueue().add(eventMessage(event, encodePayload(data)), joiner);
	}

	#presenceQueue(): PresenceQueue {
		return (this.#presence ??= new PresenceQueue(this.#limits().presenceBatchMs, () => this.#flushPresence()));
	}

	/** Sends queued joins and leaves; see `PresenceQueue`. */
	#flushPresence(): void {
		const queue = this.#presence;
		if (!queue || queue.empty) return;
		const dead = queue.drain(this.#sessions.sockets(), (ws, frame) => this.#send(ws, frame));
		for (const ws of dead) void this.#leave(ws);
	}

	/** A socket the room can no longer describe: close it, and tell the others it is gone. */
	#discardCorrupt(ws: WebSocket): void {
		console.error('A socket attachment could not be read; closing that socket');
		this.#close(ws, CloseCode.InternalError, 'Session state was lost');
		const id = sessionIdFromTags(this.ctx.getTags(ws));
		if (id) this.#announceLeft({ ws_session_id: id, meta: undefined as Meta });
	}
}

const ENTITY_ACTIONS: ReadonlySet<string> = new Set<EntityAction>(['created', 'updated', 'deleted']);

/** The only capnweb messages a client may send in a call batch. */
const CLIENT_MESSAGES = new Set(['push', 'pull', 'release']);

/**
 * For a push aimed at the API object itself (`["pipeline", 0, [method, …], args]`, or a `remap`
 * over it), its method and args. capnweb enforces its own rules on every path too (no instance
 * fields, nothing from `Object.prototype`); this check refuses anything undeclared up front.
 */
function topLevelCall(expression: unknown): { method: unknown; args: unknown[] | undefined } | undefined {
	if (!Array.isArray(expression) || expression[1] !== 0) return undefined;
	if (expression[0] !== 'pipeline' && expression[0] !== 'remap') return undefined;
	const path = expression[2];
	if (!Array.isArray(path) || path.length === 0) return { method: undefined, args: undefined };
	return { method: path[0], args: Array.isArray(expression[3]) ? expression[3] : undefined };
}

function publicInfo<Meta>(session: Session<Meta>): SessionInfo<Meta> {
	return { ws_session_id: session.ws_session_id, meta: session.meta };
}

function readHandoff<Meta>(raw: string | null): Handoff<Meta> | string {
	if (!raw) return `Missing ${HANDOFF_HEADER}: sockets must be handed over by createWebsocketHandle`;
	let value: unknown;
	try {
		value = JSON.parse(raw);
	} catch {
		return `${HANDOFF_HEADER} is not valid JSON`;
	}
	const { room, meta } = (value ?? {}) as Partial<Handoff<Meta>>;
	if (typeof room !== 'string' || room === '') return `${HANDOFF_HEADER} needs a non-empty "room"`;
	if (meta === undefined || meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
		return `${HANDOFF_HEADER} needs "meta" to be an object`;
	}
	return { room, meta };
}

export type { RoomEvents };
