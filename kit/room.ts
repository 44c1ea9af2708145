/**
 * Reading the room a socket asks for. The client's `connect(room)` puts it in the `room` query
 * parameter; the handle checks its shape here and leaves "may this user join it" to `authorize`.
 */

/** The query parameter that names the room. */
export const ROOM_PARAM = 'room';

/** Longest room name accepted by default, in characters. */
export const DEFAULT_MAX_ROOM_LENGTH = 256;

/** The room named by `url`, or why it is not acceptable (a message for the 400 body). */
export function readRoom(url: URL, maxLength: number): { room: string } | { problem: string } {
	const values = url.searchParams.getAll(ROOM_PARAM);
	if (values.length === 0) return { problem: `Missing the "${ROOM_PARAM}" query parameter: connect with ?${ROOM_PARAM}=<room>` };
	// Two values would let different layers disagree about which room this is.
	if (values.length > 1) return { problem: `The "${ROOM_PARAM}" query parameter was given ${values.length} times; give it once` };
	const room = values[0]!;
	if (room === '') return { problem: `The "${ROOM_PARAM}" query parameter is empty` };
	if (room.length > maxLength) return { problem: `The room name is ${room.length} characters long; at most ${maxLength} are allowed` };
	if (hasControlCharacters(room)) return { problem: 'The room name contains control characters' };
	return { room };
}

/**
 * Control characters (C0, DEL, C1) have no business in a name that ends up in logs, tags and error
 * messages. A loop rather than a regular expression: V8 drops compiled expressions at garbage
 * collection, and this runs on every upgrade.
 */
function hasControlCharacters(text: string): boolean {
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (c <= 0x1f || (c >= 0x7f && c <= 0x9f)) return true;
	}
	return false;
}
