/**
 * Database changes pushed to every socket, with nothing lost across disconnects: the room's change
 * log (`change-log.ts`), the `entity:*` events built from it, and the catch-up a (re)joining socket
 * is sent before any live change.
 *
 * Nothing here costs a room or a client that does not use it: the log's table appears with the
 * first `entityChanged`, and only a socket that asked (`?since=`, sent by clients that follow
 * entity changes) gets a catch-up and its `entity:synced`.
 */
import { RoomError } from '../rpc/errors.js';
import { eventLine, eventsFrame } from '../rpc/frame.js';
import { encodePayload } from '../rpc/payload.js';
import type { EntityAction, EntityChangeInput, EntityEvent, LoggedChange } from '../rpc/types.js';
import { ChangeLog, type ChangeLogOptions } from './change-log.js';
import { MAX_PUSH_FRAME_BYTES, packBySize, utf8Length } from './frame-size.js';

const ENTITY_ACTIONS: ReadonlySet<string> = new Set<EntityAction>(['created', 'updated', 'deleted']);

/** Bytes of catch-up one `connectRateLimit` token pays for, past the first ones. */
const CATCH_UP_BYTES_PER_TOKEN = 64 * 1024;

export class EntitySync {
	readonly #storage: DurableObjectStorage;
	readonly #options: ChangeLogOptions;
	readonly #log: ChangeLog;

	constructor(storage: DurableObjectStorage, options: ChangeLogOptions) {
		this.#storage = storage;
		this.#options = options;
		this.#log = new ChangeLog(storage.sql, options);
	}

	/** The number of the latest change (0 before the first). */
	head(): number {
		return this.#log.head();
	}

	/** Numbers and stores `changes` atomically, in order; returns them as logged. */
	record(changes: readonly EntityChangeInput[]): LoggedChange[] {
		for (const change of changes) {
			if (!ENTITY_ACTIONS.has(change.action)) throw new RoomError('bad_request', `Unknown entity action ${JSON.stringify(String(change.action))}`, 400);
		}
		const now = Date.now();
		return this.#storage.transactionSync(() => this.#log.append(changes, now));
	}

	/** The frame of one change, as `entity:created | updated | deleted`. */
	frame(change: LoggedChange, room: string): string {
		return eventsFrame([this.#message(change, room)]);
	}

	/**
	 * What a (re)joining socket is sent: the changes after `since` it may see, then `entity:synced`,
	 * in frames of at most {@link MAX_PUSH_FRAME_BYTES}; or `entity:resync` when the log no longer
	 * reaches back that far, `since` is not a number, the replay would pass `maxCatchUpBytes`, or
	 * `pay` (one token per 64 KiB past the first) refuses. `since=-1` asks only for the head.
	 */
	catchUp(since: string, room: string, visible: (change: LoggedChange) => boolean, pay: (tokens: number) => boolean): string[] {
		// `Number('')` is 0: only digits (and the -1 of "from the head") name a position.
		const from = /^-?\d{1,16}$/.test(since) ? Number(since) : NaN;
		const result =
			!Number.isSafeInteger(from) || from < -1
				? ({ resync: true, changes: [], head: this.#log.head() } as const)
				: from === -1
					? ({ resync: false, changes: [], head: this.#log.head() } as const)
					: this.#log.since(from, Date.now());
		const messages = result.resync ? undefined : this.#replay(result.changes, room, visible, pay);
		if (!messages) return [eventsFrame([eventLine('entity:resync', encodePayload({ room, head: result.head }))])];
		messages.push(eventLine('entity:synced', encodePayload({ room, head: result.head })));
		return packBySize(messages, utf8Length, 1, MAX_PUSH_FRAME_BYTES).map(eventsFrame);
	}

	/** The messages replaying `changes`, or `undefined` when they are more than a catch-up may be. */
	#replay(changes: readonly LoggedChange[], room: string, visible: (change: LoggedChange) => boolean, pay: (tokens: number) => boolean): string[] | undefined {
		const messages: string[] = [];
		let bytes = 0;
		for (const change of changes) {
			if (!visible(change)) continue;
			const message = this.#message(change, room);
			bytes += utf8Length(message) + 1;
			if (bytes > this.#options.maxCatchUpBytes) return undefined;
			messages.push(message);
		}
		const extra = Math.floor(bytes / CATCH_UP_BYTES_PER_TOKEN);
		return extra > 0 && !pay(extra) ? undefined : messages;
	}

	#message(change: LoggedChange, room: string): string {
		const event: EntityEvent = { room, seq: change.seq, entity_type: change.entity_type, id: change.id };
		if (change.data !== undefined) event.data = change.data;
		if (change.sparse !== undefined) event.sparse = change.sparse;
		return eventLine(`entity:${change.action}`, encodePayload(event));
	}
}
