/**
 * Events whose payload is one list (`session:list`, `session:changes`), written by pasting items
 * encoded once between the ends of the encoder's own message for an empty list.
 *
 * The room sends the same sessions over and over: every joiner's list holds everyone before it, and
 * every coalesced presence frame holds the same changes for every socket. Encoding each item once
 * (superjson, then JSON) and joining strings makes those O(items) string work, not encoder work.
 * The encoder still decides every byte (string escapes, key order): an item's text is cut out of its
 * own one-item list, at the same depth it has in any list.
 */
import { eventLine } from '../rpc/frame.js';
import { encodePayload } from '../rpc/payload.js';
import { utf8Length } from './frame-size.js';

/** One item's share of a list message. */
export interface ListItem {
	/** The item exactly as it appears inside a list; `''` when not `plain`. */
	text: string;
	/** UTF-8 bytes of `text`; of the item's whole one-item message when not `plain` (an estimate that includes its annotations). */
	bytes: number;
	/**
	 * superjson needed no annotations for it. Annotations are keyed by paths that hold the item's
	 * index in the list (`sessions.7.meta.at`), so an annotated item cannot be pasted into another
	 * list: a list holding one is encoded whole ({@link ListMessage.encode}). Meta comes from the
	 * handle as JSON, where only `-0` and numbers too large for a double need annotations, so this is
	 * the rare path.
	 */
	plain: boolean;
}

export class ListMessage<Item> {
	/** The message for an empty list, up to and including its opening `[`… */
	readonly head: string;
	/** …and from its closing `]` on. */
	readonly tail: string;
	/** Bytes a message adds on top of its items and their commas. */
	readonly overhead: number;

	constructor(
		readonly event: string,
		/**
		 * The event's payload around a list of items, e.g. `(sessions) => ({ sessions })`. The list
		 * must be the payload's last array: items are pasted where the encoding's last `[]` is.
		 */
		readonly payload: (items: Item[]) => object,
	) {
		const empty = this.encode([]);
		const at = empty.lastIndexOf('[]');
		if (at < 0) throw new Error(`Unexpected encoding of an empty ${event}`);
		this.head = empty.slice(0, at + 1);
		this.tail = empty.slice(at + 1);
		this.overhead = utf8Length(this.head) + utf8Length(this.tail);
	}

	/** The encoder's message for `items`: the reference, and the way for annotated items. */
	encode(items: Item[]): string {
		return eventLine(this.event, encodePayload(this.payload(items)));
	}

	/** `item` encoded once, as it appears inside any list of this event. */
	item(item: Item): ListItem {
		const payload = encodePayload(this.payload([item]));
		const message = eventLine(this.event, payload);
		const plain = payload.meta === undefined && message.startsWith(this.head) && message.endsWith(this.tail);
		const text = plain ? message.slice(this.head.length, -this.tail.length) : '';
		return { text, bytes: plain ? utf8Length(text) : utf8Length(message) - this.overhead, plain };
	}

	/**
	 * The message for plain items, pasted. It equals {@link encode} of the items they were made from
	 * as long as no two of those share an object (superjson would record that as a referential
	 * equality); decoded, it is equal either way.
	 */
	join(items: readonly Pick<ListItem, 'text'>[]): string {
		let body = '';
		for (let i = 0; i < items.length; i++) body += (i === 0 ? '' : ',') + items[i]!.text;
		return this.head + body + this.tail;
	}
}
