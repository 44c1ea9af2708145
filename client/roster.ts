/**
 * Joins the parts of a `session:list` the room sent in several frames (see `SessionListPart`): apps,
 * the SharedWorker and the Svelte client all see one `session:list` with every session, as if it had
 * come in one frame.
 */
import type { SessionListPart } from '../rpc/protocol.js';
import type { RoomEvents, SessionInfo } from '../rpc/types.js';

export class SessionListParts {
	/** Sessions of the parts received so far, while the list is incomplete. */
	#sessions: SessionInfo<unknown>[] | undefined;

	/**
	 * Takes one decoded `session:list` payload. Returns the whole list once its last part is in,
	 * `undefined` while more parts are due.
	 */
	add(part: SessionListPart<unknown>): RoomEvents<unknown>['session:list'] | undefined {
		if (part.more === true) {
			(this.#sessions ??= []).push(...part.sessions);
			return undefined;
		}
		const earlier = this.#sessions;
		this.#sessions = undefined;
		// A list in one frame is passed on as it came, the same object as before lists had parts. The
		// last part carries whatever else the list says (window presence: `window`).
		return earlier ? { ...part, sessions: earlier.concat(part.sessions) } : part;
	}
}
