/**
 * How big the room's own frames get: sizes counted in UTF-8 bytes, and the cap the room packs its
 * roster parts and coalesced presence under.
 */

const encoder = new TextEncoder();
/** Where `utf8Length` encodes strings that fit, so counting bytes allocates nothing. */
const scratch = new Uint8Array(64 * 1024);

/** A string's length in UTF-8 bytes, what frame and attachment limits count. */
export function utf8Length(text: string): number {
	// Each UTF-16 unit is at most 3 UTF-8 bytes, so a string this short always fits the scratch.
	if (text.length * 3 <= scratch.length) return encoder.encodeInto(text, scratch).written;
	return encoder.encode(text).byteLength;
}

/**
 * Whether `text` is at most `max` UTF-8 bytes, without encoding it: a frame of megabytes is refused
 * for its size before anything copies it.
 */
export function utf8LengthAtMost(text: string, max: number): boolean {
	// Each UTF-16 unit is 1 to 3 UTF-8 bytes (a surrogate pair, two units, is 4).
	if (text.length > max) return false;
	if (text.length * 3 <= max) return true;
	let bytes = 0;
	for (let i = 0; i < text.length; i++) {
		const unit = text.charCodeAt(i);
		bytes += unit < 0x80 ? 1 : unit < 0x800 || (unit >= 0xd800 && unit < 0xe000) ? 2 : 3;
		if (bytes > max) return false;
	}
	return true;
}

/**
 * The largest frame the room sends on its own account (roster parts, coalesced presence), in UTF-8
 * bytes. workerd sizes a socket's buffers by the largest frame it sent it and keeps them as long as
 * the socket lives, so big frames cost memory on every idle socket; a few KB keeps that close to a
 * bare socket's while still packing ~60 presence changes or roster entries into one frame. A single
 * entry or event larger than this still goes out whole, in a frame of its own.
 */
export const MAX_PUSH_FRAME_BYTES = 8 * 1024;

/**
 * Groups `items`, in order, into runs that fit in `max` bytes: a run costs `overhead` (the frame's
 * fixed ends) plus each item's `size` and one separator byte per item. An item too large on its own
 * gets a run of its own. No run is empty; no items, no runs.
 */
export function packBySize<T>(items: Iterable<T>, size: (item: T) => number, overhead: number, max: number): T[][] {
	const runs: T[][] = [];
	let run: T[] = [];
	let bytes = overhead;
	for (const item of items) {
		const cost = size(item) + 1;
		if (run.length > 0 && bytes + cost > max) {
			runs.push(run);
			run = [];
			bytes = overhead;
		}
		run.push(item);
		bytes += cost;
	}
	if (run.length > 0) runs.push(run);
	return runs;
}
