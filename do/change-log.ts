/**
 * The room's change log: every entity change gets the next room sequence number and is kept in the
 * Durable Object's SQLite storage, bounded by count and age, so a client that was away can be sent
 * exactly what it missed — or told to resync when the gap is older than the log.
 *
 * The table is created by the first change: a room whose server code never calls `entityChanged`
 * has none, however many clients ask it for a catch-up or a page reads its (zero) head.
 */
import { decodePayload, encodePayload } from '../rpc/payload.js';
import type { EntityAction, EntityChangeInput, LoggedChange } from '../rpc/types.js';

export interface ChangeLogOptions {
	/** Most changes kept. @default 1000 */
	maxChanges: number;
	/** Oldest change kept, in milliseconds. @default 24 h */
	maxAgeMs: number;
	/**
	 * Most UTF-8 bytes one reconnect may replay. A longer catch-up is not sent: the client gets
	 * `entity:resync` and refetches, so one client cannot make the room send megabytes on every
	 * reconnect. Each started 64 KiB past the first also costs a `connectRateLimit` token. @default 1 MiB
	 */
	maxCatchUpBytes: number;
}

export const DEFAULT_CHANGE_LOG: ChangeLogOptions = { maxChanges: 1000, maxAgeMs: 24 * 60 * 60 * 1000, maxCatchUpBytes: 1024 * 1024 };

/** What a reconnecting client gets: the changes after its position, or the order to resync. */
export type CatchUp = { resync: false; changes: LoggedChange[]; head: number } | { resync: true; changes: []; head: number };

interface Row extends Record<string, SqlStorageValue> {
	seq: number;
	at: number;
	action: string;
	entity_type: string;
	id: string;
	body: string;
}

export class ChangeLog {
	#sql: SqlStorage;
	#options: ChangeLogOptions;
	#head: number | undefined;
	/** Whether `_ws_changes` exists, once looked up. */
	#created: boolean | undefined;

	constructor(sql: SqlStorage, options: ChangeLogOptions) {
		this.#sql = sql;
		this.#options = options;
	}

	/** The sequence number of the latest change (0 before the first). */
	head(): number {
		this.#head ??= this.#exists() ? (this.#sql.exec<{ head: number | null }>('SELECT max(seq) AS head FROM _ws_changes').one().head ?? 0) : 0;
		return this.#head;
	}

	/**
	 * Numbers, stores and prunes, all in the caller's transaction (creating the table with the first
	 * change); returns the changes as logged.
	 */
	append(inputs: readonly EntityChangeInput[], now: number): LoggedChange[] {
		const existed = this.#exists();
		try {
			if (!existed) {
				this.#sql.exec(`CREATE TABLE _ws_changes (
					seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, action TEXT NOT NULL,
					entity_type TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL)`);
				this.#created = true;
			}
			let seq = this.head();
			const logged = inputs.map((input): LoggedChange => ({ ...input, seq: ++seq }));
			for (const change of logged) {
				this.#sql.exec(
					'INSERT INTO _ws_changes (seq, at, action, entity_type, id, body) VALUES (?, ?, ?, ?, ?, ?)',
					change.seq,
					now,
					change.action,
					change.entity_type,
					JSON.stringify(change.id),
					JSON.stringify(encodePayload({ data: change.data, sparse: change.sparse })),
				);
			}
			this.#sql.exec('DELETE FROM _ws_changes WHERE seq <= ? OR at < ?', seq - this.#options.maxChanges, now - this.#options.maxAgeMs);
			this.#head = seq;
			return logged;
		} catch (error) {
			// The caller's transaction rolls back, the table's creation with it.
			if (!existed) this.#created = undefined;
			throw error;
		}
	}

	/** Everything after `since`, oldest first; `resync` when some of it is no longer kept. */
	since(since: number, now: number): CatchUp {
		const head = this.head();
		if (since === head) return { resync: false, changes: [], head };
		// A position past the head belongs to a log this room no longer has. (Without a table the
		// head is 0, so every position lands in one of these two cases.)
		if (since > head) return { resync: true, changes: [], head };
		const rows = [
			...this.#sql.exec<Row>(
				'SELECT seq, at, action, entity_type, id, body FROM _ws_changes WHERE seq > ? AND at >= ? ORDER BY seq',
				since,
				now - this.#options.maxAgeMs,
			),
		];
		// The log must still hold the very next change, or something in between is gone.
		if (rows[0]?.seq !== since + 1) return { resync: true, changes: [], head };
		const changes = rows.map((row): LoggedChange => {
			const { data, sparse } = decodePayload<{ data?: unknown; sparse?: unknown }>(JSON.parse(row.body));
			return { seq: row.seq, action: row.action as EntityAction, entity_type: row.entity_type, id: JSON.parse(row.id), data, sparse };
		});
		return { resync: false, changes, head };
	}

	#exists(): boolean {
		this.#created ??= this.#sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_ws_changes'").toArray().length > 0;
		return this.#created;
	}
}
