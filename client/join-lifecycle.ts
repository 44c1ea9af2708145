/**
 * `JoinLifecycle`: the part of a `RoomTransport` that is the same whatever carries the room — a
 * socket of its own (`SocketTransport`) or a SharedWorker's over a port (`PortTransport`).
 *
 * It holds which room the transport is in and its status, hands out `connect()`'s promise, keeps
 * the `send()` calls made while joining, and makes the transitions between them:
 *
 * - `connect(room)`: leaves any other room, then asks the {@link JoinLink} to join; a `connect()`
 *   of the room already being joined gets the same promise.
 * - {@link JoinLifecycle.attempting}: `'connecting'` / `'reconnecting'`; sends are queued.
 * - {@link JoinLifecycle.joined}: the queued sends leave, oldest first, then `'connected'` is
 *   announced (so a send made by a `ws:connected` listener comes after them), then `connect()`
 *   resolves.
 * - {@link JoinLifecycle.stopped}: given up for good (kicked, retries exhausted, a bad URL); queued
 *   sends and `connect()` fail with why, the room stays remembered so `connect()` starts over.
 * - {@link JoinLifecycle.leave}: `disconnect()` or a room switch; the link drops its carrier and
 *   its calls in flight, queued sends and `connect()` fail, `'disconnected'` names the room left.
 *
 * Everything about the carrier (sockets, timers, ports, the worker's protocol) stays in the link.
 */
import { CallBatcher } from '../calls/call-batcher.js';
import { ConnectionLost, RoomError } from '../rpc/errors.js';
import { SendDropped } from './errors.js';
import type { ConnectionStatus, RoomTransport, StatusChange, TransportHandlers } from './transport.js';

/** A `send()` made while joining, waiting to leave once joined. */
export interface QueuedSend {
	readonly event: string;
	readonly data: unknown;
	resolve(value: unknown): void;
	reject(error: unknown): void;
}

/** What carries a room for a {@link JoinLifecycle}: the transport-specific half. */
export interface JoinLink {
	/**
	 * Starts joining `room` (already the lifecycle's room): reports back through `attempting`, and
	 * later `joined` or `stopped`.
	 */
	join(room: string): void;
	/** Carries one send to the room. Only called while `'connected'`. */
	send(event: string, data: unknown): Promise<unknown>;
	/**
	 * Drops whatever carried the room being left (its socket, its membership in the worker) and
	 * fails the calls still waiting for an answer on it. Nothing it reports afterwards may reach
	 * the lifecycle.
	 */
	leave(): void;
}

/** A status change as a transport reports it; the room defaults to the current one. */
type Change = Omit<StatusChange, 'room'> & { room?: string };

export class JoinLifecycle {
	readonly #handlers: TransportHandlers;
	readonly #link: JoinLink;
	/** `send()` calls made while joining, oldest first; bounded, so an app that keeps sending through a long outage cannot grow memory without limit. */
	#queue: QueuedSend[] = [];
	readonly #capacity: number;
	/** `connect()`'s promise for the join under way, made on first ask; every `connect()` of that join gets it. */
	#joining: PromiseWithResolvers<void> | null = null;
	#status: ConnectionStatus = 'disconnected';
	#room: string | null = null;
	/** Counts the rooms left: a listener that leaves while hearing `'connected'` ends that join. */
	#left = 0;
	#destroyed = false;

	/** @param sendQueueSize `send()` calls kept while joining; the oldest is dropped beyond. */
	constructor(handlers: TransportHandlers, link: JoinLink, sendQueueSize = 100) {
		this.#handlers = handlers;
		this.#link = link;
		this.#capacity = Math.max(0, Math.floor(sendQueueSize));
	}

	get status(): ConnectionStatus {
		return this.#status;
	}

	/** The room joined or being joined; `null` before `connect()` and after `leave()`. */
	get room(): string | null {
		return this.#room;
	}

	get destroyed(): boolean {
		return this.#destroyed;
	}

	/** Joins `room` (leaving any other first); resolves once joined, rejects when that join ends. */
	connect(room: string): Promise<void> {
		if (this.#destroyed) return Promise.reject(new RoomError('destroyed', 'This client was destroyed', 0));
		if (room === this.#room && this.#status === 'connected') return Promise.resolve();
		if (room === this.#room && this.#status !== 'disconnected') return this.#joined();
		if (this.#room !== null && room !== this.#room) this.leave(`switched to room "${room}"`);

		const joined = this.#joined();
		this.#room = room;
		this.#link.join(room);
		return joined;
	}

	/**
	 * Sends now while joined, queues while joining, refuses otherwise. When the queue is full the
	 * oldest entry is dropped (its promise rejects with `SendDropped`) and a warning says so.
	 */
	send(event: string, data: unknown): Promise<unknown> {
		if (this.#status === 'connected') return this.#link.send(event, data);
		if (this.#status === 'disconnected') return Promise.reject(new ConnectionLost('Not connected to a room: call connect() first'));
		const { promise, resolve, reject } = Promise.withResolvers<unknown>();
		this.#queue.push({ event, data, resolve, reject });
		if (this.#queue.length > this.#capacity) {
			// With no room at all, that is the entry just added.
			const dropped = this.#queue.shift()!;
			const capacity = this.#capacity;
			dropped.reject(new SendDropped(dropped.event, capacity ? `the send queue is full (${capacity})` : 'the send queue holds nothing (sendQueueSize is 0)'));
			this.#handlers.warning({
				code: 'send_queue_full',
				message: `The send queue is full (${capacity}); dropped the oldest "${dropped.event}"`,
				event: dropped.event,
			});
		}
		return promise;
	}

	/** An attempt is under way or waiting (its retry, the network, the worker). */
	attempting(status: 'connecting' | 'reconnecting', change: Change = {}): void {
		this.#setStatus(status, change);
	}

	/** The room let us in: queued sends leave first, then `'connected'`, then `connect()` resolves. */
	joined(change: Change = { error: null }): void {
		const left = this.#left;
		for (const entry of this.#drain()) this.#link.send(entry.event, entry.data).then(entry.resolve, entry.reject);
		this.#setStatus('connected', change);
		if (left !== this.#left) return; // a status listener switched rooms or disconnected
		this.#joining?.resolve();
		this.#joining = null;
	}

	/** Stopped trying for good: queued sends and `connect()` fail with `error`; the room is kept. */
	stopped(error: RoomError, change: Omit<Change, 'error'> = {}): void {
		this.#rejectAll(error.message);
		const fail = this.#detach();
		// A listener hearing this may connect() again: that starts a new join, which `fail` leaves alone.
		this.#setStatus('disconnected', { ...change, error });
		fail(error);
	}

	/**
	 * The transport cannot go on and another takes over: the queued sends go to `takeOver` (to be
	 * sent there), then `connect()` fails with `error`. No status is reported.
	 */
	handOver(error: RoomError, takeOver: (queued: QueuedSend[]) => void): void {
		const fail = this.#detach();
		takeOver(this.#drain());
		fail(error);
	}

	/** Leaves the current room, if any, for good: the link's carrier and calls, queued sends, `connect()`. */
	leave(why: string): void {
		const room = this.#room;
		if (room === null) return;
		this.#room = null;
		this.#left++;
		this.#link.leave();
		this.#rejectAll(why);
		this.#detach()(new ConnectionLost(`The connection attempt was abandoned: ${why}`));
		if (this.#status !== 'disconnected') this.#setStatus('disconnected', { room, error: null, closeCode: 1000, closeReason: why });
	}

	/** `connect()` refuses from now on. The transport leaves first (it has subscriptions to end too). */
	destroy(): void {
		this.#destroyed = true;
	}

	#joined(): Promise<void> {
		if (!this.#joining) {
			this.#joining = Promise.withResolvers<void>();
			// Callers may drop the promise; a rejection nobody awaits is not an error of the app.
			this.#joining.promise.catch(() => {});
		}
		return this.#joining.promise;
	}

	/**
	 * Ends the join under way and returns how to fail it, for the caller to run once it has told
	 * its listeners why (a listener may already `connect()` again, starting the next join).
	 */
	#detach(): (error: unknown) => void {
		const joining = this.#joining;
		this.#joining = null;
		return (error) => joining?.reject(error);
	}

	/** Takes every queued send out, oldest first. */
	#drain(): QueuedSend[] {
		const queued = this.#queue;
		this.#queue = [];
		return queued;
	}

	#rejectAll(why: string): void {
		for (const entry of this.#drain()) entry.reject(new SendDropped(entry.event, why));
	}

	#setStatus(status: ConnectionStatus, change: Change): void {
		this.#status = status;
		this.#handlers.status(status, { ...change, room: change.room ?? this.#room ?? '' });
	}
}

/**
 * The `RoomTransport` members that are the lifecycle's, whatever carries the room: `status`, `room`,
 * `connect`, `disconnect` and `send`. A transport passes its {@link JoinLink} up and adds what its
 * carrier does: `rpc`, `retryNow`, `destroy`.
 */
export abstract class LifecycleTransport<Remote> implements RoomTransport<Remote> {
	declare protected readonly lifecycle: JoinLifecycle;
	/** Answers calls made while there is no socket; built on first use (see {@link notConnected}). */
	#down: CallBatcher<Remote> | undefined;

	constructor(handlers: TransportHandlers, link: JoinLink, sendQueueSize?: number) {
		this.lifecycle = new JoinLifecycle(handlers, link, sendQueueSize);
	}

	abstract readonly rpc: Remote;
	abstract retryNow(): void;
	abstract destroy(): void;

	get status(): ConnectionStatus {
		return this.lifecycle.status;
	}

	/** The room's API while there is no socket: its calls reject with `ConnectionLost`, saying the status. */
	protected get notConnected(): Remote {
		return (this.#down ??= new CallBatcher<Remote>(() => Promise.reject(new ConnectionLost(`Not connected to the room (${this.status})`)))).main;
	}

	get room(): string | null {
		return this.lifecycle.room;
	}

	connect(room: string): Promise<void> {
		return this.lifecycle.connect(room);
	}

	disconnect(): void {
		this.lifecycle.leave('disconnect() was called');
	}

	send(event: string, data: unknown): Promise<unknown> {
		return this.lifecycle.send(event, data);
	}
}
