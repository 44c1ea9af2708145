/**
 * What a tab and the SharedWorker say to each other over a `MessagePort`.
 *
 * Everything here is structured-clone data: event payloads stay superjson-encoded (as on the
 * socket), so a `Date`, `Map` or `BigInt` reaches the tab exactly as it would over a direct socket,
 * and errors travel as {@link WireError} to be rebuilt into the same classes.
 *
 * The first message on a port is `hello` with {@link PROTOCOL_VERSION}; the worker answers
 * `welcome` with its own. A tab that gets another version (or no answer) uses a direct socket
 * instead. The worker's name also carries the package version, so a deploy normally starts a new
 * worker anyway; the handshake covers the rest (a dev build, a stale worker under the same name).
 */
import type { EncodedPayload } from '../../rpc/payload.js';
import type { WakeReason } from '../reconnect.js';
import type { SocketTransportOptions } from '../socket-transport.js';
import type { ConnectionStatus, TransportWarning } from '../transport.js';
import type { WireError, WireStatusChange } from './wire.js';

/** Bumped whenever a message below changes shape or meaning. */
export const PROTOCOL_VERSION = 3;

/**
 * Tab liveness. Ports never report that their other end is gone, so the worker pings every tab
 * each {@link HEARTBEAT_INTERVAL_MS} and releases a tab it has not heard from for
 * {@link HEARTBEAT_MISSES} intervals. The tab answers from its message handler, which browsers do
 * not throttle in background tabs the way they throttle timers. A tab that closes normally says
 * `bye` on `pagehide` and is released at once.
 *
 * Release bound for a tab that dies silently (crash, killed process): at most
 * `(HEARTBEAT_MISSES + 1) × HEARTBEAT_INTERVAL_MS` = 8 s after its last answer; the room's socket
 * closes then if it was the last tab, and the room announces `session:disconnected` right after.
 */
export const HEARTBEAT_INTERVAL_MS = 2_000;
export const HEARTBEAT_MISSES = 3;

/** The socket settings a tab may pass; the first tab to join a room decides them for that room. */
export type SocketSettings = Pick<
	SocketTransportOptions,
	'reconnect' | 'connectTimeoutMs' | 'pingIntervalMs' | 'pongTimeoutMs' | 'callTimeoutMs' | 'sendQueueSize'
>;

/** Tab → worker. */
export type TabMessage =
	| { type: 'hello'; version: number }
	/**
	 * Join `room` (leaving any other). `url` is the room's absolute WebSocket URL without `since`,
	 * and identifies the shared socket: tabs with the same URL share one. `since` is the tab's
	 * change-feed position (-1: from the head), or `null` when the tab does not follow entity changes
	 * (the socket asks the room for a catch-up only while some tab does). `join` numbers this tab's
	 * joins; everything the worker says about the room carries it, so a tab can ignore what was meant
	 * for an earlier join. `debug`: the tab wants the room socket's debug lines (`debug` messages).
	 * `online`: the tab's `navigator.onLine` (a tab opened offline must not have the socket retried
	 * behind its back, nor one opened online find it waiting for an `online` that another tab will
	 * never send).
	 */
	| { type: 'join'; join: number; room: string; url: string; since: number | null; settings: SocketSettings; debug: boolean; online: boolean }
	/**
	 * The tab started following entity changes during join `join`, from `since` (-1: from now on).
	 * The worker answers with `entity:synced` (or `entity:resync`) once its socket can vouch for it,
	 * and from then on asks the room for a catch-up on every reconnect.
	 */
	| { type: 'follow'; join: number; since: number }
	| { type: 'leave' }
	/** One batch of capnweb messages gathered by the tab's `CallBatcher`. */
	| { type: 'call'; id: number; messages: string[] }
	| { type: 'send'; id: number; event: string; payload: EncodedPayload }
	/**
	 * What the tab's browser says: the network is back or gone (`online` / `offline`), or the tab
	 * became visible. The worker has no page of its own, and devtools' Offline applies to pages only.
	 */
	| { type: 'wake'; reason: WakeReason }
	/** The app asked to retry now (`retryNow()`). */
	| { type: 'retry' }
	| { type: 'pong' }
	/** The page is going away (`pagehide`): release this tab now. */
	| { type: 'bye' }
	/** Debugging and tests: what the worker holds. */
	| { type: 'stats' };

/** Worker → tab. */
export type WorkerMessage =
	| { type: 'welcome'; version: number }
	| { type: 'status'; join: number; status: ConnectionStatus; change: WireStatusChange }
	| { type: 'event'; join: number; name: string; payload: EncodedPayload }
	| { type: 'warning'; join: number; warning: TransportWarning }
	/** A debug line of the room's socket, for tabs that joined with `debug`. */
	| { type: 'debug'; join: number; line: string }
	| { type: 'replied'; id: number; messages?: string[]; error?: WireError }
	| { type: 'sent'; id: number; payload?: EncodedPayload; error?: WireError }
	| { type: 'ping' }
	/** The worker stopped counting this tab (it missed its heartbeats). Join again to come back. */
	| { type: 'released' }
	| { type: 'stats'; stats: HubStats };

/** What `stats` answers. */
export interface HubStats {
	/** Ports the worker currently counts as live tabs. */
	tabs: number;
	rooms: Array<{ room: string; url: string; tabs: number; status: ConnectionStatus; sessions: number; position: number }>;
}

/** A message from the other end, if it looks like one of ours (anything else is ignored). */
export function readMessage<T extends { type: string }>(data: unknown): T | null {
	return data !== null && typeof data === 'object' && typeof (data as { type?: unknown }).type === 'string' ? (data as T) : null;
}
