/**
 * Who is in the room, as client state (reactive under `WebsocketClient`, see reactivity.ts): every
 * known socket (`sessions`), every person (`users`, sessions grouped by `meta.user_id`), and the
 * room-size view apps read as `ws.presence` (counts, members, paging), the same in both presence
 * modes.
 *
 * Sessions are keyed by `ws_session_id`, so a repeated announcement replaces instead of
 * duplicating, and a fresh `session:list` (after a reconnect) replaces everything: no ghosts.
 * A user whose last session leaves stays in `users` for a short grace period, so someone whose
 * connection blips (or who reloads the page) does not flicker out and back in.
 *
 * In window presence the known sessions are those of the window and of the pages loaded since;
 * `session:update` keeps them current (the window's joins and leaves, members that left the room)
 * and dedupes by id, so a page that overlaps what is known (the window moved) adds nobody twice.
 */
import { presenceMemberId, type PresencePage, type PresenceUpdate, type PresenceWindow, type SessionInfo } from '../rpc/types.js';
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

/**
 * One member of the room in `ws.presence.members`: a person (every socket with the same
 * `meta.user_id`), or a socket without a `user_id` on its own.
 */
export interface PresenceMember<Meta> {
	/** `meta.user_id`, or the `ws_session_id` of a socket without one. */
	id: string;
	/** The metadata of the member's most recent session. */
	meta: Meta;
	/**
	 * The member's sockets. Kept current for members in the window (and for everyone in `'full'`
	 * presence); for members loaded with `more()`, as of their page (the member itself is dropped
	 * when it leaves).
	 */
	sessions: SessionInfo<Meta>[];
}

/**
 * `ws.presence`: who is in the room, read the same whatever the room's `presence` option. Reactive
 * under `WebsocketClient` (runes), plain properties under `RoomClient`.
 *
 * ```svelte
 * <p>{ws.presence.count} online</p>
 * {#each ws.presence.members as member (member.id)}<Avatar meta={member.meta} />{/each}
 * {#if !ws.presence.complete}<button onclick={() => ws.presence.more()}>Show more</button>{/if}
 * ```
 */
export interface RoomPresence<Meta> {
	/**
	 * `'full'`: the room sends everyone (`members` is the whole room). `'window'`: the room sends the
	 * counts and a window of members; more come with {@link more}. `'full'` until the room's first list.
	 */
	readonly mode: 'full' | 'window';
	/** Members in the room now: people (sockets sharing `meta.user_id` count once), and sockets without a `user_id`. */
	readonly count: number;
	/** Sockets in the room now. */
	readonly sessionCount: number;
	/**
	 * The members known, in order of arrival: everyone in `'full'` presence; in `'window'` presence
	 * the window, then every page loaded with {@link more} (a reconnect starts again from the room's
	 * window). No leave grace here (see `ws.users`).
	 */
	readonly members: readonly PresenceMember<Meta>[];
	/** Whether `members` holds everyone in the room (always in `'full'` presence). */
	readonly complete: boolean;
	/** A {@link more} is under way. */
	readonly loading: boolean;
	/**
	 * Loads the next page of members (at most `limit`, and at most the room's `pageSize`) and adds
	 * them to `members`. Resolves with how many members it added: 0 when `members` is complete (or in
	 * `'full'` presence, or when the room was left meanwhile). Calls made while one is under way share
	 * it. Rejects like `ws.rpc` (`not_connected`, `ConnectionLost`, `rate_limited`: each page spends a
	 * token of the room's `rateLimit`).
	 */
	more(limit?: number): Promise<number>;
}

/** Asks the room for a page of members (the room's reserved presence method). */
export type PresencePager<Meta> = (after: string, limit: number | undefined) => Promise<PresencePage<Meta>>;

export class Presence<Meta> {
	readonly #clock: Clock;
	readonly #graceMs: number;
	/**
	 * The sessions known, by id, in order of arrival: the one source of truth. A join or leave edits
	 * it in place and bumps {@link #versionCell}, so it costs O(1) whatever the room's size; the lists
	 * apps read (`sessions`, `users`, `members`) are built from it when read, once per change.
	 */
	#byId = new Map<string, SessionInfo<Meta>>();
	/** How many known sessions each `meta.user_id` has: who just left for good, in O(1). */
	readonly #userSessions = new Map<string, number>();
	/** Users whose last session left less than `graceMs` ago. */
	readonly #leaving = new Map<string, UserPresence<Meta>>();
	/** Bumped by every change of the above; its cell is what reactive readers subscribe to. */
	#version = 0;
	readonly #versionCell: Cell<number>;
	readonly #sessions = this.#memo(() => [...this.#byId.values()]);
	readonly #users = this.#memo(() => groupUsers(this.#sessions(), this.#leaving));
	readonly #members = this.#memo(() => groupMembers(this.#sessions()));
	/** Window presence: the room's counts and where paging goes on; `null` in full presence. */
	readonly #windowCell: Cell<PresenceWindow | null>;
	readonly #loadingCell: Cell<Promise<number> | null>;
	readonly #pager: PresencePager<Meta>;
	/** Bumped by every fresh list and by `clear`: a page asked for before is dropped. */
	#generation = 0;
	#timers = new Map<string, TimerHandle>();
	/** What `ws.presence` shows. */
	declare readonly view: RoomPresence<Meta>;

	constructor(clock: Clock, graceMs: number, reactivity: Reactivity, pager: PresencePager<Meta>) {
		this.#clock = clock;
		this.#graceMs = graceMs;
		this.#pager = pager;
		this.#versionCell = reactivity.cell(0);
		this.#windowCell = reactivity.cell<PresenceWindow | null>(null);
		this.#loadingCell = reactivity.cell<Promise<number> | null>(null);
		const self = this;
		this.view = {
			get mode() {
				return self.#windowCell.get() ? 'window' : 'full';
			},
			get count() {
				return self.#windowCell.get()?.users ?? self.#members().length;
			},
			get sessionCount() {
				const window = self.#windowCell.get();
				if (window) return window.sessions;
				self.#versionCell.get();
				return self.#byId.size;
			},
			get members() {
				return self.#members();
			},
			get complete() {
				const window = self.#windowCell.get();
				return !window || self.#members().length >= window.users;
			},
			get loading() {
				return self.#loadingCell.get() !== null;
			},
			more: (limit) => reactivity.untrack(() => this.#more(limit)),
		};
	}

	get sessions(): readonly SessionInfo<Meta>[] {
		return this.#sessions();
	}

	get users(): readonly UserPresence<Meta>[] {
		return this.#users();
	}

	/**
	 * The room's list (sent on every join): replaces whatever was known. `window` comes with it in
	 * window presence (then `list` is the window's sessions).
	 */
	replace(list: readonly SessionInfo<Meta>[], window?: PresenceWindow): void {
		const byId = putAll(new Map<string, SessionInfo<Meta>>(), list);
		this.#generation++;
		this.#loadingCell.set(null);
		this.#windowCell.set(window ? { users: window.users, sessions: window.sessions, next: window.next } : null);
		this.#replaceAll(byId);
	}

	/** Window presence: one join or leave (see `PresenceUpdate`). A count-only update touches nothing else. */
	update(change: PresenceUpdate<Meta>): void {
		const window = this.#windowCell.get();
		if (!window) return;
		if (window.users !== change.users || window.sessions !== change.sessions)
			this.#windowCell.set({ ...window, users: change.users, sessions: change.sessions });
		if (!change.joined && change.left === undefined && change.gone === undefined && !change.entered) return;
		// In place, O(the change): every socket in the room gets this update, so a copy of everything
		// known (the window and the pages loaded) per update would cost the room's crowd O(n) each.
		const left = change.left === undefined ? undefined : this.#byId.get(change.left);
		if (left) this.#forgetSession(left);
		// Scanned only for a member known here: most members leaving a big room were never paged in.
		const gone = change.gone;
		if (gone !== undefined && (this.#userSessions.has(gone) || this.#byId.has(gone))) {
			// A Map may lose entries while it is walked: the walk goes on past them.
			for (const session of this.#byId.values()) if (presenceMemberId(session) === gone) this.#forgetSession(session);
		}
		if (change.entered) for (const session of change.entered) this.#put(session);
		if (change.joined) this.#put(change.joined);
		this.#changed();
	}

	#more(limit: number | undefined): Promise<number> {
		const loading = this.#loadingCell.get();
		if (loading) return loading;
		if (this.view.complete) return Promise.resolve(0);
		const generation = this.#generation;
		const { next } = this.#windowCell.get()!;
		const page: Promise<number> = Promise.resolve()
			.then(() => this.#pager(next, limit))
			.then((got) => (generation === this.#generation ? this.#addPage(got) : 0))
			.finally(() => {
				if (this.#loadingCell.get() === page) this.#loadingCell.set(null);
			});
		this.#loadingCell.set(page);
		return page;
	}

	/** A page from the room: its members join the known ones (deduped), paging goes on after it. */
	#addPage(page: PresencePage<Meta>): number {
		const window = this.#windowCell.get();
		if (!window) return 0;
		const before = this.#members().length;
		for (const session of page.sessions) this.#put(session);
		this.#windowCell.set({ ...window, next: page.next });
		this.#changed();
		return this.#members().length - before;
	}

	/**
	 * A session joined: O(1), however many are known. Announced again (a room may repeat itself,
	 * e.g. around a reconnect), it replaces the old entry in place, and changes nothing at all when
	 * nothing about it changed.
	 */
	add(session: SessionInfo<Meta>): void {
		const known = this.#byId.get(session.ws_session_id);
		if (known && JSON.stringify(known.meta) === JSON.stringify(session.meta)) return;
		this.#put(session, known);
		this.#changed();
	}

	/** A session left: O(1), however many are known. */
	remove(ws_session_id: string): void {
		const known = this.#byId.get(ws_session_id);
		if (!known) return;
		this.#forgetSession(known);
		this.#changed();
	}

	/** Forgets everyone at once, without a grace period (left the room, or stopped). */
	clear(): void {
		this.#generation++;
		if (this.#loadingCell.get()) this.#loadingCell.set(null);
		if (this.#windowCell.get()) this.#windowCell.set(null);
		for (const timer of this.#timers.values()) this.#clock.clearTimeout(timer);
		this.#timers.clear();
		if (this.#leaving.size === 0 && this.#byId.size === 0) return;
		this.#leaving.clear();
		this.#byId = new Map();
		this.#userSessions.clear();
		this.#changed();
	}

	/**
	 * Everything known becomes `next` (a map of the caller's own, kept as it is): users no longer in
	 * it start their grace period. O(sessions).
	 */
	#replaceAll(next: Map<string, SessionInfo<Meta>>): void {
		const previous = this.#byId;
		this.#byId = next;
		this.#userSessions.clear();
		for (const session of next.values()) this.#countSession(session);
		const gone = new Map<string, SessionInfo<Meta>>();
		for (const session of previous.values()) {
			const id = userIdOf(session);
			if (id !== undefined && !this.#userSessions.has(id)) gone.set(id, session);
		}
		for (const [id, last] of gone) this.#startGrace(id, last.meta);
		this.#changed();
	}

	/**
	 * Puts a session into `#byId` (one known already keeps its place), counted towards its user.
	 * `known`: what `#byId` holds under its id, when the caller has looked it up already.
	 */
	#put(session: SessionInfo<Meta>, known = this.#byId.get(session.ws_session_id)): void {
		const next = sessionInfo(session);
		this.#byId.set(next.ws_session_id, next);
		if (known && userIdOf(known) === userIdOf(next)) return;
		if (known) this.#uncount(known);
		this.#countSession(next);
	}

	/** Counts a session in `#byId` towards its user, who is back if they were leaving. */
	#countSession(session: SessionInfo<Meta>): void {
		const id = userIdOf(session);
		if (id === undefined) return;
		this.#userSessions.set(id, (this.#userSessions.get(id) ?? 0) + 1);
		if (!this.#leaving.has(id)) return;
		// Back within the grace period.
		this.#clock.clearTimeout(this.#timers.get(id));
		this.#timers.delete(id);
		this.#leaving.delete(id);
	}

	#forgetSession(session: SessionInfo<Meta>): void {
		this.#byId.delete(session.ws_session_id);
		this.#uncount(session);
	}

	/** A session no longer counts towards its user; the user's last one starts the grace period. */
	#uncount(session: SessionInfo<Meta>): void {
		const id = userIdOf(session);
		if (id === undefined) return;
		const left = (this.#userSessions.get(id) ?? 1) - 1;
		if (left > 0) return void this.#userSessions.set(id, left);
		this.#userSessions.delete(id);
		this.#startGrace(id, session.meta);
	}

	#startGrace(user_id: string, meta: Meta): void {
		this.#leaving.set(user_id, { user_id, meta, sessions: [] });
		this.#clock.clearTimeout(this.#timers.get(user_id));
		this.#timers.set(
			user_id,
			this.#clock.setTimeout(() => {
				this.#timers.delete(user_id);
				this.#leaving.delete(user_id);
				this.#changed();
			}, this.#graceMs),
		);
	}

	#changed(): void {
		// Written without reading the cell: a change made inside an effect must not subscribe it.
		this.#versionCell.set(++this.#version);
	}

	/** `compute` once per change: its reader subscribes to the version, the work happens on read. */
	#memo<T>(compute: () => T): () => T {
		let at = -1;
		let value!: T;
		return () => {
			const version = this.#versionCell.get();
			if (version !== at) {
				value = compute();
				at = version;
			}
			return value;
		};
	}
}

/**
 * Applies a window update's sessions to the sessions known, by id: who left (a socket, or a whole
 * member) goes; who entered or joined is added, keeping the place of anyone known already (a member
 * paged in before it moved into the window).
 */
export function applyWindowChange<Meta>(byId: Map<string, SessionInfo<Meta>>, change: PresenceUpdate<Meta>): void {
	if (change.left !== undefined) byId.delete(change.left);
	if (change.gone !== undefined) for (const [id, s] of byId) if (presenceMemberId(s) === change.gone) byId.delete(id);
	putAll(byId, change.entered ?? []);
	if (change.joined) putAll(byId, [change.joined]);
}

/** Puts each session of `list` into `byId`, in its public shape (an entry already there keeps its place). */
function putAll<Meta>(byId: Map<string, SessionInfo<Meta>>, list: readonly SessionInfo<Meta>[]): Map<string, SessionInfo<Meta>> {
	for (const session of list) byId.set(session.ws_session_id, sessionInfo(session));
	return byId;
}

/** Just the public shape: drops extras such as `num_connections` from join announcements. */
export function sessionInfo<Meta>(session: SessionInfo<Meta>): SessionInfo<Meta> {
	return { ws_session_id: session.ws_session_id, meta: session.meta };
}

function userIdOf(session: SessionInfo<unknown>): string | undefined {
	const id = (session.meta as { user_id?: unknown } | null | undefined)?.user_id;
	return typeof id === 'string' ? id : undefined;
}

/** Every session in its member (see `presenceMemberId`), members in order of first appearance. */
function groupMembers<Meta>(sessions: readonly SessionInfo<Meta>[]): PresenceMember<Meta>[] {
	return [...group<Meta, PresenceMember<Meta>>(sessions, presenceMemberId, 'id').values()];
}

/** Sessions with a `meta.user_id`, grouped in order of first appearance; leaving users last. */
function groupUsers<Meta>(sessions: readonly SessionInfo<Meta>[], leaving: ReadonlyMap<string, UserPresence<Meta>>): UserPresence<Meta>[] {
	const users = group<Meta, UserPresence<Meta>>(sessions, userIdOf, 'user_id');
	for (const [id, user] of leaving) if (!users.has(id)) users.set(id, user);
	return [...users.values()];
}

/**
 * Sessions grouped by `keyOf` (those without a key left out), in order of first appearance; a
 * group holds its key in its `field`, and the meta of its latest session.
 */
function group<Meta, Group extends { meta: Meta; sessions: SessionInfo<Meta>[] }>(
	sessions: readonly SessionInfo<Meta>[],
	keyOf: (session: SessionInfo<Meta>) => string | undefined,
	field: Exclude<keyof Group, 'meta' | 'sessions'>,
): Map<string, Group> {
	const groups = new Map<string, Group>();
	for (const session of sessions) {
		const key = keyOf(session);
		if (key === undefined) continue;
		const known = groups.get(key);
		if (known) {
			known.sessions.push(session);
			known.meta = session.meta;
		} else groups.set(key, { [field]: key, meta: session.meta, sessions: [session] } as Group);
	}
	return groups;
}
