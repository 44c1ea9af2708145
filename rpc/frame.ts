/**
 * The frame format: every WebSocket text frame is one self-contained unit, so nothing about a
 * conversation lives in memory between frames and a hibernating room loses nothing when evicted.
 *
 *     c<id>\n<capnweb message>\n<capnweb message>…   client → room: one batch of calls
 *     r<id>\n<capnweb message>…                      room → client: the answer to batch <id>
 *     x<id>\n<RoomErrorData JSON>                    room → client: batch <id> refused whole
 *     v\n<event>\n<event>…                           room → client: events, each `["<name>",<json>(,<meta>)]`
 *     e\n<capnweb message>…                          room → client: other one-way calls (`closing`, `confirm`)
 *     a\n<nonce>                                     client → room: read everything up to the
 *                                                   room's `confirm(nonce)` call (see do/backlog.ts)
 *
 * capnweb messages are single-line JSON (JSON.stringify escapes newlines), so joining them with
 * "\n" needs no escaping, exactly like capnweb's own HTTP batch transport.
 *
 * Events, nearly every frame a client reads, are not capnweb calls: an event is one line of JSON,
 * its name and its encoded payload's parts (`payload.ts`: `json`, then `meta` when the value needs
 * one), which a client reads with one `JSON.parse` and, without `meta`, delivers as it came. As a
 * capnweb call it took a third more bytes (the call's envelope, every array escaped) and a walk of
 * the arguments to undo the escapes, the largest part of a delivery's cost in a client.
 *
 * The keep-alive pair below is answered by the runtime (`setWebSocketAutoResponse`) and never
 * reaches the room's code.
 */
import type { RoomErrorData } from './errors.js';
import type { EncodedPayload } from './payload-json.js';

export const PING = 'ping';
export const PONG = 'pong';

export type Frame =
	| { kind: 'call'; id: number; messages: string[] }
	| { kind: 'reply'; id: number; messages: string[] }
	| { kind: 'refused'; id: number; error: RoomErrorData }
	| { kind: 'push'; messages: string[] }
	| { kind: 'events'; messages: string[] }
	| { kind: 'ack'; nonce: string };

const TAGS = { call: 'c', reply: 'r', refused: 'x', push: 'e', events: 'v', ack: 'a' } as const;
const KINDS: Record<string, Frame['kind']> = { c: 'call', r: 'reply', x: 'refused', e: 'push', v: 'events', a: 'ack' };

/** How every events frame starts. */
export const EVENTS_HEAD = `${TAGS.events}\n`;

export function callFrame(id: number, messages: readonly string[]): string {
	return `${TAGS.call}${id}\n${messages.join('\n')}`;
}

export function replyFrame(id: number, messages: readonly string[]): string {
	return `${TAGS.reply}${id}\n${messages.join('\n')}`;
}

export function refusedFrame(id: number, error: RoomErrorData): string {
	return `${TAGS.refused}${id}\n${JSON.stringify(error)}`;
}

export function pushFrame(messages: readonly string[]): string {
	return `${TAGS.push}\n${messages.join('\n')}`;
}

/** A frame of events, each an {@link eventLine}. */
export function eventsFrame(lines: readonly string[]): string {
	return EVENTS_HEAD + lines.join('\n');
}

/** An event as its line holds it: the name, the payload's `json`, and its `meta` when it has one. */
export type EventLine = [name: string, json: unknown, meta?: unknown];

/** One event, as a line of an events frame: `["<name>",<json>]`, or `["<name>",<json>,<meta>]`. */
export function eventLine(name: string, payload: EncodedPayload): string {
	return JSON.stringify(payload.meta === undefined ? [name, payload.json] : [name, payload.json, payload.meta]);
}

/** An events frame's line read back, or `undefined` when it is not one event. */
export function readEventLine(line: string): EventLine | undefined {
	let event: unknown;
	try {
		event = JSON.parse(line);
	} catch {
		return undefined;
	}
	return Array.isArray(event) && (event.length === 2 || event.length === 3) && typeof event[0] === 'string' ? (event as EventLine) : undefined;
}

/** The encoded payload of an event line (for the decoder). */
export function eventPayload(event: EventLine): EncodedPayload {
	return event.length === 2 ? { json: event[1] } : { json: event[1], meta: event[2] };
}

export function ackFrame(nonce: string): string {
	return `${TAGS.ack}\n${nonce}`;
}

/**
 * Reads the header line only. Returns the kind, the id (or -1 for `push`, `events` and `ack`) and where the body
 * starts, or `null` when the header is not one of ours.
 */
export function readHeader(raw: string): { kind: Frame['kind']; id: number; body: number } | null {
	const nl = raw.indexOf('\n');
	if (nl < 1) return null;
	const kind = KINDS[raw[0]!];
	if (!kind) return null;
	if (kind === 'push' || kind === 'events' || kind === 'ack') return nl === 1 ? { kind, id: -1, body: 2 } : null;
	// 1 to 15 decimal digits, read without a regular expression: V8 drops compiled regular
	// expressions when it collects garbage, and recompiling one showed in a room's first call after eviction.
	if (nl < 2 || nl > 16) return null;
	let id = 0;
	for (let i = 1; i < nl; i++) {
		const digit = raw.charCodeAt(i) - 48;
		if (digit < 0 || digit > 9) return null;
		id = id * 10 + digit;
	}
	return { kind, id, body: nl + 1 };
}

/** Parses a whole frame; `null` when it is not a valid frame. */
export function parseFrame(raw: string): Frame | null {
	const header = readHeader(raw);
	if (!header) return null;
	const body = raw.slice(header.body);
	switch (header.kind) {
		case 'refused': {
			try {
				const error = JSON.parse(body) as RoomErrorData;
				return { kind: 'refused', id: header.id, error };
			} catch {
				return null;
			}
		}
		case 'push':
		case 'events':
			return { kind: header.kind, messages: splitMessages(body) };
		case 'ack':
			return { kind: 'ack', nonce: body };
		default:
			return { kind: header.kind, id: header.id, messages: splitMessages(body) };
	}
}

function splitMessages(body: string): string[] {
	// Most frames carry one message: no need for `split`'s search and copy.
	if (body.indexOf('\n') < 0) return body === '' ? [] : [body];
	return body.split('\n');
}
