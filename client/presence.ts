/**
 * Who is in the room, as client state (reactive under `WebsocketClient`, see reactivity.ts): every socket (`sessions`) and every person (`users`,
 * sessions grouped by `meta.user_id`).
 *
 * Sessions are keyed by `ws_session_id`, so a repeated announcement replaces instead of
 * duplicating, and a fresh `session:list` (after a reconnect) replaces everything: no ghosts.
 * A user whose last session leaves stays in `users` for a short grace period, so someone whose
 * connection blips (or who reloads the page) does not flicker out and back in.
 */
import type { SessionInfo } from '../rpc/types.js';
import type { Clock, TimerHandle } from './clock.js';
import type { Cell, Reactivity } from './reactivity.js';

/** One person in the room: all of their sessions (tabs, devices). */
export interface UserPresence<Meta> {
	user_id: string;
	/** The metadata of the user's most recent session. */
	meta: Meta;
	/** The user's sessions; empty while the user is in the leave grace period. */
	sessions: SessionInfo<Meta>[];
}

export class Presence<Meta> {
	readonly #clock: Clock;
	readonly #graceMs: number;
	readonly #sessionsCell: Cell<SessionInfo<Meta>[]>;
	/** Users whose last session left less than `graceMs` ago. */
	readonly #leavingCell: Cell<ReadonlyMap<string, UserPresence<Meta>>>;
	readonly #users: { get(): UserPresence<Meta>[] };
	#timers = new Map<string, TimerHandle>();

	constructor(clock: Clock, graceMs: number, reactivity: Reactivity) {
		this.#clock = clock;
		this.#graceMs = graceMs;
		this.#sessionsCell = reactivity.cell<SessionInfo<Meta>[]>([]);
		this.#leavingCell = reactivity.cell<ReadonlyMap<string, UserPresence<Meta>>>(new Map());
		this.#users = reactivity.derived(() => groupUsers(this.#sessions, this.#leaving));
	}

	get #sessions(): SessionInfo<Meta>[] {
		return this.#sessionsCell.get();
	}
	set #sessions(next: SessionInfo<Meta>[]) {
		this.#sessionsCell.set(next);
	}
	get #leaving(): ReadonlyMap<string, UserPresence<Meta>> {
		return this.#leavingCell.get();
	}
	set #leaving(next: ReadonlyMap<string, UserPresence<Meta>>) {
		this.#leavingCell.set(next);
	}

	get sessions(): readonly SessionInfo<Meta>[] {
		return this.#sessions;
	}

	get users(): readonly UserPresence<Meta>[] {
		return this.#users.get();
	}

	/** The room's full list (sent on every join): replaces whatever was known. */
	replace(list: readonly SessionInfo<Meta>[]): void {
		const byId = new Map<string, SessionInfo<Meta>>();
		for (const session of list) byId.set(session.ws_session_id, info(session));
		this.#update([...byId.values()]);
	}

	/**
	 * A session joined. Announced again (a room may repeat itself, e.g. around a reconnect), it
	 * replaces the old entry in place, and changes nothing at all when nothing about it changed.
	 */
	add(session: SessionInfo<Meta>): void {
		const next = info(session);
		const at = this.#sessions.findIndex((s) => s.ws_session_id === next.ws_session_id);
		if (at < 0) return this.#update([...this.#sessions, next]);
		if (JSON.stringify(this.#sessions[at]!.meta) === JSON.stringify(next.meta)) return;
		this.#update(this.#sessions.with(at, next));
	}

	remove(ws_session_id: string): void {
		if (!this.#sessions.some((s) => s.ws_session_id === ws_session_id)) return;
		this.#update(this.#sessions.filter((s) => s.ws_session_id !== ws_session_id));
	}

	/** Forgets everyone at once, without a grace period (left the room, or stopped). */
	clear(): void {
		for (const timer of this.#timers.values()) this.#clock.clearTimeout(timer);
		this.#timers.clear();
		if (this.#leaving.size > 0) this.#leaving = new Map();
		if (this.#sessions.length > 0) this.#sessions = [];
	}

	#update(next: SessionInfo<Meta>[]): void {
		const before = groupUsers(this.#sessions, new Map());
		const present = new Set(next.map(userIdOf).filter((id) => id !== undefined));
		let leaving: Map<string, UserPresence<Meta>> | undefined;
		const edit = () => (leaving ??= new Map(this.#leaving));

		for (const id of this.#leaving.keys()) {
			if (!present.has(id)) continue;
			// Back within the grace period.
			this.#clock.clearTimeout(this.#timers.get(id));
			this.#timers.delete(id);
			edit().delete(id);
		}
		for (const user of before) {
			if (present.has(user.user_id)) continue;
			edit().set(user.user_id, { ...user, sessions: [] });
			this.#timers.set(user.user_id, this.#clock.setTimeout(() => this.#forget(user.user_id), this.#graceMs));
		}
		this.#sessions = next;
		if (leaving) this.#leaving = leaving;
	}

	#forget(user_id: string): void {
		this.#timers.delete(user_id);
		const leaving = new Map(this.#leaving);
		leaving.delete(user_id);
		this.#leaving = leaving;
	}
}

/** Just the public shape: drops extras such as `num_connections` from join announcements. */
function info<Meta>(session: SessionInfo<Meta>): SessionInfo<Meta> {
	return { ws_session_id: session.ws_session_id, meta: session.meta };
}

function userIdOf(session: SessionInfo<unknown>): string | undefined {
	const id = (session.meta as { user_id?: unknown } | null | undefined)?.user_id;
	return typeof id === 'string' ? id : undefined;
}

/** Sessions with a `meta.user_id`, grouped in order of first appearance; leaving users last. */
function groupUsers<Meta>(sessions: readonly SessionInfo<Meta>[], leaving: ReadonlyMap<string, UserPresence<Meta>>): UserPresence<Meta>[] {
	const users = new Map<string, UserPresence<Meta>>();
	for (const session of sessions) {
		const id = userIdOf(session);
		if (id === undefined) continue;
		const user = users.get(id);
		if (user) {
			user.sessions.push(session);
			user.meta = session.meta;
		} else users.set(id, { user_id: id, meta: session.meta, sessions: [session] });
	}
	for (const [id, user] of leaving) if (!users.has(id)) users.set(id, user);
	return [...users.values()];
}
