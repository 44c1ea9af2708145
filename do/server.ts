/**
 * `WebsocketServer`: one Durable Object per room. Sockets are accepted with the Hibernation API, so
 * the room sleeps between messages and costs nothing while idle; everything it must remember about a
 * socket (session, metadata, rate-limit buckets) lives in that socket's attachment.
 */
import { DurableObject } from 'cloudflare:workers';
export { DEFAULT_ROOM_OPTIONS, type RoomOptions } from './options.js';
export type { RoomMetric, RoomMetrics } from './metrics.js';
import { answerBatch, describeError, encodeCalls, wireErrorFor, type BatchControl } from '../calls/batch.js';
import { RoomError, type RoomErrorData } from '../rpc/errors.js';
import { PING, PONG, eventLine, eventsFrame, pushFrame, readHeader, refusedFrame, replyFrame } from '../rpc/frame.js';
import { decodePayload, encodePayload, type EncodedPayload } from '../rpc/payload.js';
import { CloseCode, HANDOFF_HEADER, type Handoff } from '../rpc/protocol.js';
import {
	isClientLocalEvent,
	type AuthSessionMeta,
	type EntityAction,
	type EntityChangeInput,
	type EventMap,
	type LoggedChange,
	type MessageOf,
	type PresenceCount,
	type PresencePage,
	type PresenceUpdate,
	type RoomEvents,
	type Session,
	type SessionInfo,
} from '../rpc/types.js';
import { RoomApi, pagePresence, receiveEvent, type RoomApiClass } from './api.js';
import { ask, confirmed } from './backlog.js';
import { refuseEventName } from './batch-check.js';
import { EntitySync } from './entity-sync.js';
import { count, newCounters, type RoomMetric, type RoomMetrics } from './metrics.js';
import { Members } from './members.js';
import { presenceWindow, resolveOptions, type RoomOptions } from './options.js';
import { PresenceQueue } from './presence.js';
import { utf8Length, utf8LengthAtMost } from './frame-size.js';
import { Roster } from './roster.js';
import { OpeningSockets } from './opening.js';
import { MAX_ATTACHMENT_BYTES, SessionStore, sessionIdFromTags, sessionTag, tagsFor, userTag, userTagOf, type SessionState } from './sessions.js';
import { callId, Gate } from './gate.js';
import { misrouted, openShards, type ShardMessage, type Shards } from './shards.js';

/**
 * The 101 response's `Sec-WebSocket-Extensions` is the room's answer to the browser's offer: the
 * runtime keeps the permessage-deflate parameters it names and negotiates nothing else, so a
 * value naming no permessage-deflate declines compression (the header then never reaches the
 * browser). Without the header the runtime would accept the offer as made.
 */
const DECLINE_EXTENSIONS = { 'Sec-WebSocket-Extensions': 'none' };

/** Where `sendTo` delivers: a session id (as a string or `{ session }`), or every socket of a user id. */
export type SendTarget = string | { session: string } | { user: string };

/** What the room's constructor reads from the class; see `static api` and `static options`. */
interface RoomClass {
	api: RoomApiClass;
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
 * Type parameters: `Meta` (what the handle authorizes each socket with), `Events` (what the room
 * sends: `broadcast`, `sendTo`), `Env` (the Worker's bindings), `Messages` (what browsers `send()`,
 * which `onMessage` receives; by default the same map as `Events`).
 *
 * Browsers reach only `static api`'s methods. Server code (SvelteKit endpoints, other Workers)
 * reaches this class's public methods — `broadcast`, `sendTo`, `getSessions`, `kick`,
 * `entityChanged`, `changeHead`, `metrics` — through Workers RPC on the namespace stub.
 */
export class WebsocketServer<
	Meta = AuthSessionMeta,
	Events extends EventMap = EventMap,
	Env = unknown,
	Messages extends object = Events,
> extends DurableObject<Env> {
	/** The class whose methods browsers may call. The default exposes nothing but `send()` events. */
	static api: RoomApiClass = RoomApi;
	/** Per-room limits; merged over {@link DEFAULT_ROOM_OPTIONS}. */
	static options: Partial<RoomOptions> = {};

	/** Every socket's state; after a wake-up, filled as needed (see {@link #sessions}, {@link #readAhead}). */
	readonly #store = new SessionStore<Meta>();
	/** Whether `#store` holds the whole room: false in an instance built after eviction until it is read. */
	#restored = false;
	#restoreTimer: ReturnType<typeof setTimeout> | undefined;
	/** Each session's encoded `session:list` entry, so a join does not encode the whole room again. */
	readonly #roster = new Roster<Meta>();
	/** Window presence only (`presence: { window }`): the members in order, counted. */
	readonly #membersStore?: Members<Meta>;
	/** The class's options, resolved over the defaults. */
	readonly #options: RoomOptions;
	/** Checks and charges what comes in: sockets at the door, frames, calls. */
	readonly #gate: Gate;
	/** Sockets being accepted, and what is sent to them before their 101 is out. */
	readonly #opening = new OpeningSockets();
	/** Batches still running, per socket: dropped when the socket goes. */
	readonly #inflight = new Map<WebSocket, Set<Work>>();
	#sync?: EntitySync;
	/** Joins and leaves waiting to go out together (see `PresenceQueue`). */
	readonly #presence: PresenceQueue;
	/** Bytes sent to a socket between two read checks (see `backlog.ts`). */
	readonly #askEvery: number;
	/** The latest `connected_at` handed out (or restored): each socket arrives strictly after the last. */
	#lastArrival = 0;
	/** A sharded room's link to its other shards (see `do/shards.ts`); null when unsharded, undefined until a sharded room first needs it. */
	#shardsInstance?: Shards | null;
	/** Whether this instance knows the silent-socket alarm is set. */
	#alarmSet = false;
	readonly #counters = newCounters();

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		// The runtime answers pings itself: keep-alive never wakes the room.
		ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
		// What the hot paths read is set here, in every instance, rather than on first use: a branch
		// that fills a field on first use runs once in each room, and when a new room of the isolate
		// took it, V8 threw away optimized code all its rooms share, the broadcast loop's `#send`
		// among it (`--trace-deopt`; bench/README, *rooms that all start alike*).
		const room = this.constructor as unknown as RoomClass;
		const options = (this.#options = resolveOptions(room.options));
		this.#gate = new Gate(options, ctx.storage, room.api);
		this.#askEvery = options.maxUnreadBytes / 4;
		this.#presence = new PresenceQueue(
			options.presenceBatchMs,
			() => this.#flushPresence(),
			() => this.#sessions.size,
		);
		// A sharded room opens its link on first use: it reads storage, and may refuse its binding.
		if (options.shards.count <= 1) this.#shardsInstance = null;
		const window = presenceWindow(options);
		if (window) this.#membersStore = new Members<Meta>(window.window);
	}

	/**
	 * The whole room's sessions. A room built again after eviction reads every socket's attachment
	 * the first time anything needs the room (a broadcast, a join, a leave, presence, the alarm) or
	 * right after its first reply, whichever comes first; a frame needs only its sender's user
	 * (see {@link #readAhead}), so the first call costs the same in any room.
	 */
	get #sessions(): SessionStore<Meta> {
		this.#restoreRoom();
		return this.#store;
	}

	/** Window presence's members, built from the whole room (read first after a wake-up, like {@link #sessions}). */
	get #members(): Members<Meta> | undefined {
		this.#restoreRoom();
		return this.#membersStore;
	}

	/** Reads every socket the room does not hold yet: once per instance, a no-op after that. */
	#restoreRoom(): void {
		if (this.#restored) return;
		this.#restored = true;
		clearTimeout(this.#restoreTimer);
		const { added, corrupt } = this.#store.restore(this.ctx.getWebSockets());
		this.#store.sortByArrival();
		// The states read ahead joined their user's buckets then; window presence starts from all of them.
		for (const state of added) state.limits = this.#gate.joined(state.session, state.limits);
		for (const state of this.#store.states()) {
			this.#membersStore?.join(state.session, state.place);
			this.#lastArrival = Math.max(this.#lastArrival, state.session.connected_at);
		}
		for (const ws of corrupt) this.#discardCorrupt(ws);
	}

	/**
	 * The sender's state, before the room is read: the sender's attachment and those of its user's
	 * other sockets (found by tag), whose rate-limit buckets it shares (see `UserLimits.join`). The
	 * rest of the room is read after this frame's handler has returned. When that is not enough (an
	 * attachment unreadable, a user id too long for a tag) the whole room is read at once.
	 */
	#readAhead(ws: WebSocket): SessionState<Meta> | undefined {
		const own = this.#store.restore([ws]).added[0];
		const tag = own && userTagOf(own.session);
		if (!own || tag === null) {
			if (own) this.#store.remove(ws);
			return this.#sessions.get(ws);
		}
		const others = tag === undefined ? undefined : this.#store.restore(this.ctx.getWebSockets(tag));
		for (const state of [own, ...(others?.added ?? [])]) state.limits = this.#gate.joined(state.session, state.limits);
		if (others?.corrupt.length) return this.#sessions.get(ws);
		this.#restoreTimer ??= setTimeout(() => this.#restoreRoom(), 0);
		return own;
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
	 *
	 * Typed from `Messages`: write the override as
	 * `override onMessage(session: Session<Meta>, ...[event, data]: MessageOf<Messages>)` and
	 * `if (event === 'typing')` narrows `data`. The name is checked (no reserved names), the payload
	 * is decoded; its shape is the browser's word: validate what you rely on.
	 */
	onMessage(_session: Session<Meta>, ..._message: MessageOf<Messages>): unknown {
		return undefined;
	}

	/**
	 * Whether `session` may see an entity change. `false` withholds it from that session (live and
	 * in catch-up); a throw withholds it from that session only and is logged.
	 */
	filterEntityChange(_change: { action: EntityAction; entity_type: string; id: string | number }, _session: Session<Meta>): boolean {
		return true;
	}

	/**
	 * Hears about the room's own work: batches answered (and how long they took), frames and sockets
	 * refused, sockets closed for cause. Send it to your logs or Analytics Engine. Runs inline, so
	 * keep it cheap; a throw is logged and ignored. See {@link RoomMetric}; `metrics()` has counters.
	 */
	onMetric(_metric: RoomMetric): void {}

	// ---------------------------------------------------------------------------------------------
	// Server-side API (Workers RPC from other Worker code).

	/** Counters since this instance started (they start over after eviction); see {@link RoomMetrics}. */
	metrics(): RoomMetrics {
		return {
			...this.#counters,
			sessions: this.#sessions.size,
			refused: { ...this.#counters.refused },
			socketsRefused: { ...this.#counters.socketsRefused },
			closed: { ...this.#counters.closed },
		};
	}

	/** Sends an event to every socket in the room, except the sessions in `exclude`. */
	broadcast<E extends keyof Events & string>(event: E, data: Events[E], options: { exclude?: string | readonly string[] } = {}): number {
		const exclude = options.exclude === undefined ? undefined : new Set([options.exclude].flat());
		checkOutgoing(event);
		const frame = this.#eventFrame(event, data);
		this.#shards()?.relay({ kind: 'broadcast', frame, exclude: exclude && [...exclude] });
		return this.#deliver(frame, (state) => !exclude?.has(state.session.ws_session_id));
	}

	/**
	 * Sends an event to one session (a `ws_session_id`, or `{ session }`), or to every socket of one
	 * user (`{ user }`, matched against `meta.user_id`). Returns how many sockets got it (in a sharded
	 * room: of this shard's; the other shards are sent it too).
	 */
	sendTo<E extends keyof Events & string>(target: SendTarget, event: E, data: Events[E]): number {
		checkOutgoing(event);
		const shards = this.#shards();
		if (!shards) return this.#sendTo(target, () => this.#eventFrame(event, data));
		const frame = this.#eventFrame(event, data);
		shards.relay({ kind: 'sendTo', target, frame });
		return this.#sendTo(target, () => frame);
	}

	#sendTo(target: SendTarget, frameOf: () => string): number {
		const tag = typeof target === 'string' ? sessionTag(target) : 'session' in target ? sessionTag(target.session) : userTag(target.user);
		const sockets = this.ctx.getWebSockets(tag);
		if (sockets.length === 0) return 0;
		this.#flushPresence();
		const frame = frameOf();
		const sessions = this.#sessions;
		let sent = 0;
		for (const ws of sockets) {
			const state = sessions.get(ws);
			if (state && this.#send(ws, frame, state)) sent++;
		}
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
		this.#shards()?.relay({ kind: 'entities', changes: [...changes] });
		return this.#entitiesChanged(changes);
	}

	#entitiesChanged(changes: readonly EntityChangeInput[]): number[] {
		const sync = this.#entities();
		const logged = sync.record(changes);
		for (const change of logged) {
			this.#deliver(sync.frame(change, this.#anyRoomName()), (state) => this.#maySee(change, state.session));
		}
		return logged.map((c) => c.seq);
	}

	/**
	 * The number of the latest entity change (0 before the first). A page's load function reads it
	 * *before* reading the data it renders and passes it to `ws.connect(room, { since })`: the room
	 * then replays whatever changed in between, so the page misses nothing.
	 */
	changeHead(): number {
		return this.#entities().head();
	}

	/** Everyone in the room right now. */
	getSessions(): Session<Meta>[] {
		return [...this.#sessions.states()].map((s) => s.session);
	}

	/**
	 * Closes a session with {@link CloseCode.Kicked} (the client does not reconnect) and announces it
	 * as disconnected. Returns whether the session was here (in a sharded room: on any shard).
	 */
	async kick(sessionId: string, reason = 'Removed from the room'): Promise<boolean> {
		const here = await this.#kick(sessionId, reason);
		return here || ((await this.#shards()?.kick(sessionId, reason)) ?? false);
	}

	async #kick(sessionId: string, reason: string): Promise<boolean> {
		const ws = this.ctx.getWebSockets(sessionTag(sessionId)).find((s) => this.#sessions.get(s));
		if (!ws) return false;
		this.#close(ws, CloseCode.Kicked, reason);
		await this.#leave(ws);
		return true;
	}

	/**
	 * Internal: another shard of this room relays what it did (see `do/shards.ts`). Delivered to this
	 * shard's sockets only, never relayed again.
	 */
	shardRelay(message: ShardMessage): void | Promise<boolean> {
		switch (message.kind) {
			case 'broadcast': {
				const exclude = message.exclude && new Set(message.exclude);
				this.#deliver(message.frame, (state) => !exclude?.has(state.session.ws_session_id));
				return;
			}
			case 'sendTo':
				this.#sendTo(message.target, () => message.frame);
				return;
			case 'entities':
				this.#entitiesChanged(message.changes);
				return;
			case 'kick':
				return this.#kick(message.session, message.reason);
			case 'presence': {
				this.#shards()?.heard(message.from, message.counts);
				const members = this.#members;
				if (!members) return;
				for (const { update, countOnly } of message.changes) {
					this.#announceWindow({ ...(update as PresenceUpdate<Meta>), ...this.#counts(members) }, undefined, countOnly);
				}
			}
		}
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
		const wrongShard = misrouted(this.#options.shards, handoff.shards);
		if (wrongShard) return wrongShard;

		const session: Session<Meta> = {
			ws_session_id: crypto.randomUUID(),
			room: handoff.room,
			meta: handoff.meta,
			connected_at: this.#arrival(),
		};
		const admitted = await this.#gate.admit(session, this.#sessions.size);
		if ('refused' in admitted) return this.#refuseSocket(admitted.refused, admitted.reason);
		const state: SessionState<Meta> = {
			session,
			limits: admitted.limits,
			seen: Date.now(),
			refusals: 0,
			backlog: { sent: 0, read: 0 },
			place: this.#members?.placeOf(session),
		};
		const attachmentBytes = utf8Length(JSON.stringify(state));
		if (attachmentBytes > MAX_ATTACHMENT_BYTES - 256) {
			return jsonError(400, 'meta_too_large', `Session metadata is ${attachmentBytes} bytes; a session may carry at most ${MAX_ATTACHMENT_BYTES - 256}`);
		}

		const { 0: client, 1: server } = new WebSocketPair();
		try {
			// Before accepting: a socket the platform refuses to describe is never half-registered.
			this.#sessions.save(server, state);
		} catch (error) {
			return jsonError(400, 'meta_too_large', `Session metadata cannot be stored: ${(error as Error).message}`);
		}
		this.ctx.acceptWebSocket(server, tagsFor(session));
		// From here on what the socket is sent waits for its 101 (see `OpeningSockets`).
		this.#opening.hold(server);
		try {
			return await this.#join(request, server, client, state);
		} finally {
			this.#opening.releaseSoon(server);
		}
	}

	/** An accepted socket joins: listed, caught up, `onConnect`, announced. Returns its 101. */
	async #join(request: Request, server: WebSocket, client: WebSocket, state: SessionState<Meta>): Promise<Response> {
		const { session } = state;
		this.#sessions.add(server, state);
		this.#members?.join(session, state.place);
		state.limits = this.#gate.joined(session, state.limits);
		this.#watchForSilence();

		// The list may take several frames (see `Roster`); all of them go out before `listed`, in this
		// same synchronous run, so no presence change can fall between the list and the queue's mark.
		const list = this.#members ? this.#windowList(this.#members) : this.#roster.frames(this.#sessions.states());
		for (const frame of list) this.#send(server, frame);
		this.#presence.listed(server);
		// Most rooms never use sync: the URL is parsed only when it may carry `since`.
		const since = request.url.includes('since=') ? new URL(request.url).searchParams.get('since') : null;
		if (since !== null) {
			try {
				this.#catchUp(server, state, since);
			} catch (error) {
				// A room without SQLite storage (or a broken log) still serves presence and RPC.
				console.error('Could not replay entity changes; is this Durable Object SQLite-backed?', error);
			}
		}
		try {
			await this.onConnect(session);
		} catch (error) {
			console.error('onConnect threw; refusing the socket:', describeError(error));
			this.#close(server, CloseCode.InternalError, 'The room could not set up this session');
			if (this.#forget(server)) this.#announceLeft(publicInfo(session), false);
			return this.#upgraded(client);
		}
		if (this.#sessions.get(server)) this.#announceJoined(session, server);
		return this.#upgraded(client);
	}

	/**
	 * A new socket's `connected_at`: now, or a millisecond after the last socket's when sockets arrive
	 * within the same millisecond, so the room's order of arrival (presence lists, pages) has no ties.
	 */
	#arrival(): number {
		// After a wake-up the last arrival is known once the room is read.
		this.#restoreRoom();
		return (this.#lastArrival = Math.max(Date.now(), this.#lastArrival + 1));
	}

	/** The 101 response handing `client` to the browser; it also answers the compression offer. */
	#upgraded(client: WebSocket): Response {
		return new Response(null, { status: 101, webSocket: client, headers: this.#options.compression ? undefined : DECLINE_EXTENSIONS });
	}

	/**
	 * Turns a socket away after the upgrade: a browser never sees an upgrade's HTTP status, so the
	 * socket is accepted (not by the room: it is never a session) and closed at once with `code` and
	 * `"<error code>: <message>"` as the reason.
	 */
	#refuseSocket(code: number, reason: string): Response {
		count(this.#counters.socketsRefused, String(code));
		this.#report({ kind: 'socket_refused', code, reason });
		const { 0: client, 1: server } = new WebSocketPair();
		server.accept();
		this.#close(server, code, reason);
		return this.#upgraded(client);
	}

	override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
		const state = this.#store.get(ws) ?? (this.#restored ? undefined : this.#readAhead(ws));
		if (!state) return;
		const options = this.#options;
		const now = Date.now();
		state.seen = now;
		this.#counters.frames++;
		const gate = this.#gate;
		// Every frame spends a token, so frames that are refused are not free either.
		if (!gate.spendFrame(state.limits, now)) return this.#refuse(ws, state, callId(raw), 'rate_limited', 429, 'Too many frames; slow down');
		if (typeof raw !== 'string') return this.#refuse(ws, state, -1, 'bad_request', 400, 'Binary frames are not supported');
		const header = readHeader(raw);
		const id = header?.kind === 'call' ? header.id : -1;
		if (header?.kind === 'ack') {
			if (confirmed(state.backlog, raw.slice(header.body))) return;
			return this.#refuse(ws, state, -1, 'bad_request', 400, 'A read confirmation nobody asked for');
		}
		if (!utf8LengthAtMost(raw, options.maxFrameBytes)) {
			return this.#refuse(ws, state, id, 'payload_too_large', 413, `Frame exceeds ${options.maxFrameBytes} bytes`);
		}
		if (id < 0) return this.#refuse(ws, state, -1, 'bad_request', 400, 'Expected a call frame');

		const batch = gate.inspect(raw.slice(header!.body));
		if (batch instanceof RoomError) return this.#refuse(ws, state, id, batch.code, batch.status, batch.message);
		// Each call is charged in order: the ones the buckets cover run, the rest are refused.
		const refused = gate.charge(state.limits, batch, now);
		if (refused === batch.pushes.length) return this.#refuse(ws, state, id, 'rate_limited', 429, 'Too many messages; slow down');
		state.refusals = 0;
		this.#store.saveSoon(ws, state, now, refused > 0 || gate.runningLow(state.limits));
		this.#counters.batches++;
		this.#counters.calls += batch.pushes.length - refused;
		this.#counters.callsRefused += refused;

		const Api = (this.constructor as unknown as RoomClass).api;
		const control: BatchControl = {};
		let answer: string[] | Promise<string[]>;
		try {
			answer = answerBatch(batch, new Api(this as never, state.session as never), { onSendError: wireErrorFor(batch.clientErrors) }, control);
		} catch (error) {
			answer = Promise.reject(error);
		}
		// Most calls are answered right here; only a batch still working needs a deadline. A batch
		// that pulls nothing (calls nobody awaits) gets no reply frame: its caller waits for none.
		if (!(answer instanceof Promise)) {
			if (!batch.oneWay) this.#send(ws, replyFrame(id, answer));
			if (this.#reporting)
				this.#report({ kind: 'batch', session: state.session.ws_session_id, calls: batch.pushes.length - refused, refused, ms: 0, outcome: 'answered' });
			return;
		}
		const work: Work = { ws, id, done: false, control, started: now, calls: batch.pushes.length - refused, refused, session: state.session.ws_session_id };
		const socketWork = this.#inflight.get(ws) ?? this.#inflight.set(ws, new Set()).get(ws)!;
		socketWork.add(work);
		const deadline = setTimeout(
			() => this.#finish(work, 'timeout', new RoomError('timeout', `The room did not finish this batch within ${options.callTimeoutMs} ms`, 504)),
			options.callTimeoutMs,
		);
		try {
			const replies = await answer;
			if (!work.done && !batch.oneWay) this.#send(ws, replyFrame(id, replies));
			this.#finish(work, 'answered');
		} catch (error) {
			// capnweb could not run the batch (or the room ended it: then `work` is done already).
			this.#finish(work, 'failed', new RoomError('bad_request', `The batch could not be run: ${(error as Error)?.message ?? String(error)}`, 400));
		} finally {
			clearTimeout(deadline);
			socketWork.delete(work);
		}
	}

	/**
	 * A batch is over, the first time only: answered, failed (`x<id>` with `error`), past its deadline
	 * (`x<id>` 504, and its session ended), or dropped because its socket left. Reports it.
	 */
	#finish(work: Work, outcome: 'answered' | 'timeout' | 'failed' | 'dropped', error?: RoomError): void {
		if (work.done) return;
		work.done = true;
		if (error && outcome !== 'dropped') this.#send(work.ws, refusedFrame(work.id, error.toJSON()));
		if (outcome === 'timeout' || outcome === 'dropped') work.control.cancel?.(error ?? new RoomError('connection_lost', 'The socket closed', 0));
		this.#report({ kind: 'batch', session: work.session, calls: work.calls, refused: work.refused, ms: Date.now() - work.started, outcome });
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

	/**
	 * Closes sockets that have gone silent (see `idleTimeoutMs`) and forgets stored buckets that are
	 * full again. A subclass that overrides `alarm()` must call `super.alarm()`.
	 */
	override async alarm(): Promise<void> {
		this.#alarmSet = false;
		const { idleTimeoutMs } = this.#options;
		if (idleTimeoutMs <= 0) return;
		const now = Date.now();
		for (const [ws, state] of [...this.#sessions.entries()]) {
			const pinged = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
			if (now - Math.max(state.seen, pinged) < idleTimeoutMs) continue;
			await this.#closeForCause(ws, state, CloseCode.Idle, 'idle_timeout', 'Nothing heard from this socket, not even a keep-alive ping');
		}
		await this.#gate.forgetFullBuckets(now);
		this.#watchForSilence();
	}

	// ---------------------------------------------------------------------------------------------
	// Internals. `#private` members are invisible to Workers RPC and to browsers.

	/** `send(event, data)` from a browser, via `RoomApi`'s reserved method. */
	async [receiveEvent](session: Session<Meta>, event: unknown, payload: EncodedPayload): Promise<EncodedPayload> {
		// Checked where the batch was read too; again here, the one door every event comes through.
		const refused = refuseEventName(event);
		if (refused) throw refused;
		let data: unknown;
		try {
			// Fresh from the frame: decoded in place.
			data = decodePayload(payload, true);
		} catch (error) {
			throw new RoomError('bad_request', `The event payload could not be decoded: ${(error as Error).message}`, 400);
		}
		try {
			return encodePayload(await this.onMessage(session, ...([event, data] as MessageOf<Messages>)));
		} catch (error) {
			// The name comes from the browser: quoted, so it cannot forge log lines.
			console.error(`onMessage threw for event ${JSON.stringify(event)}:`, describeError(error));
			throw new RoomError('handler_failed', `The room failed to handle ${JSON.stringify(event)}`, 500);
		}
	}

	/** `ws.presence.more()`, via `RoomApi`'s reserved method: up to `limit` members (at most `pageSize`) after `after`. */
	[pagePresence](after: unknown, limit: unknown): PresencePage<Meta> {
		const members = this.#members;
		const window = presenceWindow(this.#options);
		if (!members || !window)
			throw new RoomError('bad_request', "This room sends everyone in its session list (presence: 'full'): there are no pages to fetch", 400);
		if (typeof after !== 'string')
			throw new RoomError('bad_request', `A presence page starts after a cursor (a string the room gave); got ${typeof after}`, 400);
		if (limit !== undefined && (!Number.isInteger(limit) || (limit as number) < 1)) {
			throw new RoomError('bad_request', `A presence page holds at least 1 member (at most ${window.pageSize}); asked for ${String(limit)}`, 400);
		}
		const page = members.page(after, Math.min((limit as number | undefined) ?? window.pageSize, window.pageSize));
		return { sessions: page.members.flatMap((m) => m.sessions.map(publicInfo)), next: page.next };
	}

	/** Window presence: what a joining socket gets first (the window's sessions and the counts), in parts like the full list. */
	#windowList(members: Members<Meta>): string[] {
		const window = { ...this.#counts(members), next: members.windowCursor() };
		return this.#roster.windowFrames(
			members.inWindow().flatMap((m) => m.sessions),
			window,
		);
	}

	/** Created on first use only: rooms that never sync entities never touch SQL. */
	#entities(): EntitySync {
		return (this.#sync ??= new EntitySync(this.ctx.storage, this.#options.changeLog));
	}

	/**
	 * Replays what a (re)joining socket missed before any live change can reach it (see
	 * `EntitySync.catchUp`). A replay that cannot be sent closes the socket, so the client reconnects
	 * and asks again: never a silent gap.
	 */
	#catchUp(ws: WebSocket, state: SessionState<Meta>, since: string): void {
		const frames = this.#entities().catchUp(
			since,
			state.session.room,
			(change) => this.#maySee(change, state.session),
			(tokens) => this.#gate.spendConnects(state.limits, tokens, Date.now()),
		);
		for (const frame of frames) {
			if (this.#send(ws, frame)) continue;
			this.#close(ws, CloseCode.InternalError, 'The catch-up could not be sent; reconnect to resume');
			return;
		}
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

	/** Makes sure the silent-socket alarm will run while sockets are connected. */
	#watchForSilence(): void {
		const { idleTimeoutMs } = this.#options;
		if (this.#alarmSet || idleTimeoutMs <= 0 || this.#sessions.size === 0) return;
		this.#alarmSet = true;
		void (async () => {
			try {
				if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + idleTimeoutMs);
			} catch (error) {
				this.#alarmSet = false;
				console.error('Could not set the silent-socket alarm', error);
			}
		})();
	}

	#eventFrame<E extends string>(event: E, data: unknown): string {
		return eventsFrame([eventLine(event, encodePayload(data))]);
	}

	/** Sends one frame to every session that passes `filter`; drops sockets that fail. */
	#deliver(frame: string, filter: (state: SessionState<Meta>) => boolean): number {
		this.#flushPresence();
		let sent = 0;
		let dead: WebSocket[] | undefined;
		const sessions = this.#sessions;
		for (const ws of sessions.sockets()) {
			const state = sessions.get(ws)!;
			if (!filter(state)) continue;
			if (this.#send(ws, frame, state)) sent++;
			else (dead ??= []).push(ws);
		}
		if (dead) for (const ws of dead) void this.#leave(ws);
		return sent;
	}

	/**
	 * Sends one frame; false when the socket is gone, or is not reading what it is sent (then it is
	 * closed and will leave). Asks for a read confirmation when one is due.
	 */
	#send(ws: WebSocket, frame: string, state = this.#store.get(ws)): boolean {
		const backlog = state?.backlog;
		// The common case inline (this runs once per socket per broadcast): counted, nothing due.
		if (backlog && !backlog.asked && (backlog.sent += frame.length) - backlog.read < this.#askEvery) return this.#write(ws, frame);
		if (!state || !backlog) return this.#write(ws, frame);
		if (backlog.asked) {
			backlog.sent += frame.length;
			if (backlog.sent - backlog.asked.at <= this.#options.maxUnreadBytes) return this.#write(ws, frame);
			// Not reading. Closed once (later sends find it gone), and not now: callers may be iterating.
			if (!backlog.closing) {
				backlog.closing = true;
				queueMicrotask(
					() =>
						void this.#closeForCause(
							ws,
							state,
							CloseCode.NotReading,
							'not_reading',
							`${this.#options.maxUnreadBytes} bytes sent past an unanswered read check`,
						),
				);
			}
			return false;
		}
		return this.#write(ws, frame) && this.#write(ws, pushFrame(encodeCalls([['confirm', ask(backlog)]])));
	}

	#write(ws: WebSocket, frame: string): boolean {
		if (this.#opening.take(ws, frame)) return true;
		try {
			ws.send(frame);
			return true;
		} catch {
			return false;
		}
	}

	/** Closes a socket from the room's side, with the notice the client relies on (see `ClientApi.closing`). */
	#close(ws: WebSocket, code: number, reason: string): void {
		// A close reason is limited to 123 bytes.
		const short = utf8Length(reason) > 123 ? reason.slice(0, 40) : reason;
		// What a socket being accepted was sent goes first.
		this.#opening.release(ws);
		try {
			// Not through #send: a socket closed for not reading must still get its notice queued.
			ws.send(pushFrame(encodeCalls([['closing', code, short]])));
		} catch {
			// Gone already.
		}
		try {
			ws.close(code, short);
		} catch {
			// Already closing.
		}
	}

	/**
	 * Refuses a whole frame: `x<id>` for a call frame, an `error` event otherwise. A socket that keeps
	 * sending frames the room refuses is closed (1008) after `maxRefusals` in a row.
	 */
	#refuse(ws: WebSocket, state: SessionState<Meta>, id: number, code: string, status: number, message: string): void {
		const error: RoomErrorData = { code, status, message };
		this.#send(ws, id >= 0 ? refusedFrame(id, error) : this.#eventFrame('error', error));
		count(this.#counters.refused, code);
		this.#report({ kind: 'refused', session: state.session.ws_session_id, code, status });
		state.refusals++;
		if (state.refusals >= this.#options.maxRefusals) {
			this.#closeForCause(ws, state, CloseCode.PolicyViolation, 'too_many_refusals', `${state.refusals} frames in a row were refused`);
			return;
		}
		this.#store.save(ws, state);
	}

	/** Closes a socket for something it did (or failed to do), reports it, and announces it gone. */
	#closeForCause(ws: WebSocket, state: SessionState<Meta>, code: number, cause: string, message: string): Promise<void> {
		count(this.#counters.closed, cause);
		this.#report({ kind: 'closed', session: state.session.ws_session_id, code, reason: cause });
		this.#close(ws, code, `${cause}: ${message}`);
		return this.#leave(ws);
	}

	/** Whether the room listens to `onMetric` (a subclass overrides it); if not, no metric is built. */
	get #reporting(): boolean {
		return this.onMetric !== WebsocketServer.prototype.onMetric;
	}

	/** Hands a metric to `onMetric`, if the room listens. */
	#report(metric: RoomMetric): void {
		if (!this.#reporting) return;
		try {
			this.onMetric(metric);
		} catch (error) {
			console.error('onMetric threw:', describeError(error));
		}
	}

	/** Removes a socket without announcing it (it never was announced); returns its state once. */
	#forget(ws: WebSocket): SessionState<Meta> | undefined {
		const state = this.#sessions.remove(ws);
		if (!state) return undefined;
		for (const work of this.#inflight.get(ws) ?? []) this.#finish(work, 'dropped');
		this.#inflight.delete(ws);
		this.#gate.left(state.session);
		return state;
	}

	/** Removes a session and announces it, exactly once however many ways the socket ended. */
	async #leave(ws: WebSocket): Promise<void> {
		const state = this.#forget(ws);
		if (!state) return;
		this.#announceLeft(publicInfo(state.session), true);
		try {
			await this.onDisconnect(state.session);
		} catch (error) {
			console.error('onDisconnect threw:', describeError(error));
		}
	}

	/** A socket was set up (`onConnect` is done): everyone else hears of it, `ws` itself does not. */
	#announceJoined(session: Session<Meta>, ws: WebSocket): void {
		const members = this.#members;
		if (!members) return this.#presence.change({ connected: { ...publicInfo(session), num_connections: this.#sessions.size } }, ws);
		const update: PresenceUpdate<Meta> = this.#counts(members);
		if (members.holds(session)) update.joined = publicInfo(session);
		this.#announceUpdate(members, update, ws, update.joined === undefined);
	}

	/**
	 * A socket is gone. `announced`: its join was announced (false when `onConnect` refused it: then
	 * only window presence has something to say, the counts and who moved into the window).
	 */
	#announceLeft(info: SessionInfo<Meta>, announced: boolean): void {
		const members = this.#members;
		if (!members) {
			if (announced) this.#presence.change({ disconnected: { ...info, num_connections: this.#sessions.size } });
			return;
		}
		const departure = members.leave(info);
		const update: PresenceUpdate<Meta> = this.#counts(members);
		// A socket the room cannot place (its attachment was lost) may be in anyone's window.
		if (announced && (departure?.inWindow ?? true)) update.left = info.ws_session_id;
		if (announced && departure?.gone) update.gone = departure.member.id;
		if (departure?.entered) update.entered = departure.entered.sessions.map(publicInfo);
		this.#announceUpdate(members, update, undefined, update.left === undefined && update.gone === undefined && update.entered === undefined);
	}

	/** Window presence: queues `update` here and, in a sharded room, relays it to the other shards. */
	#announceUpdate(members: Members<Meta>, update: PresenceUpdate<Meta>, joiner: WebSocket | undefined, countOnly: boolean): void {
		this.#shards()?.presence(update, { users: members.users, sessions: members.sessions }, countOnly);
		this.#announceWindow(update, joiner, countOnly);
	}

	/** Window presence's counts: this room's, or in a sharded room the total over its shards. */
	#counts(members: Members<Meta>): PresenceCount {
		const own = { users: members.users, sessions: members.sessions };
		return this.#shards()?.total(own) ?? own;
	}

	#shards(): Shards | undefined {
		if (this.#shardsInstance === undefined) this.#shardsInstance = openShards(this.#options.shards, this.#options.presenceBatchMs, this.ctx, this.env) ?? null;
		return this.#shardsInstance ?? undefined;
	}

	/** Queues a window presence change; `countOnly`: nothing but the counts (see `PresenceQueue`). */
	#announceWindow(update: PresenceUpdate<Meta>, joiner: WebSocket | undefined, countOnly: boolean): void {
		this.#presence.add(eventLine('session:update', encodePayload(update)), joiner, countOnly);
	}

	/** Sends queued joins and leaves; see `PresenceQueue`. */
	#flushPresence(): void {
		const queue = this.#presence;
		if (queue.empty) return;
		const dead = queue.drain(this.#sessions.sockets(), (ws, frame) => this.#send(ws, frame));
		for (const ws of dead) void this.#leave(ws);
	}

	/** A socket the room can no longer describe: close it, and tell the others it is gone. */
	#discardCorrupt(ws: WebSocket): void {
		console.error('A socket attachment could not be read; closing that socket');
		this.#close(ws, CloseCode.InternalError, 'Session state was lost');
		const id = sessionIdFromTags(this.ctx.getTags(ws));
		if (id) this.#announceLeft({ ws_session_id: id, meta: undefined as Meta }, true);
	}
}

/** Server code may send any event but the client-local names, which a client would never show. */
function checkOutgoing(event: string): void {
	if (isClientLocalEvent(event)) throw new RoomError('bad_request', `${JSON.stringify(event)} is a client-local event name; the room cannot send it`, 400);
}

/** A batch the room is still working on (see `#finish`). */
interface Work {
	ws: WebSocket;
	id: number;
	/** Answered, refused, timed out or dropped: nothing more goes out for it. */
	done: boolean;
	control: BatchControl;
	started: number;
	calls: number;
	refused: number;
	session: string;
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
	const { room, meta, shards } = (value ?? {}) as Partial<Handoff<Meta>>;
	if (typeof room !== 'string' || room === '') return `${HANDOFF_HEADER} needs a non-empty "room"`;
	if (meta === undefined || meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
		return `${HANDOFF_HEADER} needs "meta" to be an object`;
	}
	if (shards !== undefined && !Number.isInteger(shards)) return `${HANDOFF_HEADER} has a "shards" that is not a whole number`;
	return { room, meta, shards };
}

export type { RoomEvents };
