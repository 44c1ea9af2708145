/**
 * The room's members in order of arrival, for window presence (`presence: { window }`): sockets
 * grouped per member (`presenceMemberId`), kept sorted, so a join, a leave, the window and a page
 * each cost a binary search plus what they return, never a walk over the room.
 *
 * A member's place is where its first socket arrived (`connected_at`, then `ws_session_id`), kept
 * while any of its sockets stays. Every socket carries its member's place in its attachment, so a
 * room built again after eviction puts each member back where it was.
 */
import { RoomError } from '../rpc/errors.js';
import { presenceMemberId, type Session, type SessionInfo } from '../rpc/types.js';
import type { Place } from './sessions.js';

/** One member: a user's sockets (or one socket without a `user_id`), in the order they joined. */
export interface Member<Meta> extends Place {
	id: string;
	sessions: Session<Meta>[];
}

/** What a socket's leave did to the members. */
export interface Departure<Meta> {
	member: Member<Meta>;
	/** The member stood in the window (before it left, if it did). */
	inWindow: boolean;
	/** It was the member's last socket. */
	gone: boolean;
	/** The member that moved into the window in its place. */
	entered?: Member<Meta>;
}

export class Members<Meta> {
	readonly #byId = new Map<string, Member<Meta>>();
	/** Every member, sorted by place. */
	readonly #order: Member<Meta>[] = [];
	#sessions = 0;

	constructor(
		/** How many members, from the first, every socket is kept up to date about. */
		readonly window: number,
	) {}

	/** Members in the room. */
	get users(): number {
		return this.#order.length;
	}

	/** Sockets in the room. */
	get sessions(): number {
		return this.#sessions;
	}

	/** Where `session` stands once it joins: its member's place, or its own arrival for a new member. */
	placeOf(session: Session<Meta>): Place {
		const member = this.#byId.get(presenceMemberId(session));
		return member ? { at: member.at, first: member.first } : { at: session.connected_at, first: session.ws_session_id };
	}

	/**
	 * Adds a socket: to its member, or as a new member at `place` (what {@link placeOf} said, kept in
	 * the socket's attachment; a socket restored without one is placed by its own arrival).
	 */
	join(session: Session<Meta>, place: Place = this.placeOf(session)): void {
		this.#sessions++;
		const id = presenceMemberId(session);
		const member = this.#byId.get(id);
		if (member) {
			member.sessions.push(session);
			return;
		}
		const joined: Member<Meta> = { id, at: place.at, first: place.first, sessions: [session] };
		this.#byId.set(id, joined);
		this.#order.splice(this.#firstAfter(joined.at, joined.first), 0, joined);
	}

	/** Whether the member `session` belongs to stands in the window. */
	holds(session: SessionInfo<Meta>): boolean {
		const member = this.#byId.get(presenceMemberId(session));
		return member !== undefined && this.#rank(member) < this.window;
	}

	/** Removes a socket; `undefined` when it was not here (never joined, or removed already). */
	leave(session: SessionInfo<Meta>): Departure<Meta> | undefined {
		const member = this.#byId.get(presenceMemberId(session));
		const index = member ? member.sessions.findIndex((s) => s.ws_session_id === session.ws_session_id) : -1;
		if (!member || index < 0) return undefined;
		this.#sessions--;
		member.sessions.splice(index, 1);
		const rank = this.#rank(member);
		const inWindow = rank < this.window;
		if (member.sessions.length > 0) return { member, inWindow, gone: false };
		this.#byId.delete(member.id);
		this.#order.splice(rank, 1);
		return { member, inWindow, gone: true, entered: inWindow ? this.#order[this.window - 1] : undefined };
	}

	/** The first `window` members. */
	inWindow(): Member<Meta>[] {
		return this.#order.slice(0, this.window);
	}

	/** Up to `limit` members after `cursor` (`''`: from the first), and the cursor after them. */
	page(cursor: string, limit: number): { members: Member<Meta>[]; next: string } {
		const after = parseCursor(cursor);
		const start = after ? this.#firstAfter(after.at, after.first) : 0;
		const members = this.#order.slice(start, start + limit);
		return { members, next: members.length > 0 ? cursorOf(members.at(-1)!) : cursor };
	}

	/** The cursor after the window (after the last member, when all fit in it). */
	windowCursor(): string {
		const last = this.#order[Math.min(this.window, this.#order.length) - 1];
		return last ? cursorOf(last) : '';
	}

	/** A present member's index in `#order` (places are unique: it is the one just before what follows it). */
	#rank(member: Member<Meta>): number {
		return this.#firstAfter(member.at, member.first) - 1;
	}

	/** The index of the first member placed after `(at, first)`. */
	#firstAfter(at: number, first: string): number {
		let lo = 0;
		let hi = this.#order.length;
		while (lo < hi) {
			const mid = (lo + hi) >>> 1;
			if (compare(this.#order[mid]!, at, first) <= 0) lo = mid + 1;
			else hi = mid;
		}
		return lo;
	}
}

/** How `member` stands against the place `(at, first)`: negative before it, 0 at it. */
function compare(member: Member<unknown>, at: number, first: string): number {
	return member.at - at || (member.first < first ? -1 : member.first > first ? 1 : 0);
}

function cursorOf(member: Member<unknown>): string {
	return `${member.at}/${member.first}`;
}

function parseCursor(cursor: string): { at: number; first: string } | undefined {
	if (cursor === '') return undefined;
	const slash = cursor.indexOf('/');
	const at = Number(cursor.slice(0, slash));
	if (slash < 1 || !Number.isSafeInteger(at) || cursor.length > 200) {
		throw new RoomError('bad_request', `Not a presence cursor: ${JSON.stringify(cursor.slice(0, 40))}; pass the \`next\` the room gave`, 400);
	}
	return { at, first: cursor.slice(slash + 1) };
}
