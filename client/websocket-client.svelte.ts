/**
 * `WebsocketClient`: a room as reactive Svelte 5 state. Read `status`, `sessions` or `users` in a
 * component and it updates by itself; listen with `on`; call the room with `rpc`; send events with
 * `send`. The logic is `RoomClientCore`'s (client/room-client.ts), shared with the headless
 * `RoomClient`; this class gives it rune state and the browser's ways to reach a room (the
 * SharedWorker's socket shared by all tabs, or a socket of its own).
 */
import type { AuthSessionMeta, EventMap, RoomRpc } from '../rpc/types.js';
import { svelteReactivity } from './reactivity.svelte.js';
import { RoomClientCore, type NextRetry, type RoomClientOptions } from './room-client.js';
import { sameOriginUrl } from './room-url.js';
import type { OpenPort } from './shared/port-transport.js';
import { openSharedWorkerPort, sharedTransport, sharedWorkerSupported } from './shared-worker.js';
import type { TransportFactory } from './transport.js';

export type { NextRetry };

export interface WebsocketClientOptions<Api = unknown> extends RoomClientOptions<Api> {
	/**
	 * The WebSocket URL of a room. Called for every attempt.
	 * @default same origin: `ws(s)://<host>/api/websocket?room=<room>`
	 */
	url?: (room: string) => string;
	/**
	 * The WebSocket constructor. Passing one also lets `connect()` run outside a browser (tests,
	 * scripts); without it, `connect()` on the server does nothing. (Outside Svelte, the headless
	 * `RoomClient` from `@delightstack/websocket/headless` needs no rune compiler.)
	 */
	WebSocket?: typeof WebSocket;
	/**
	 * Share one socket per room among all tabs of this origin, through a SharedWorker: the room
	 * sees one session per browser, and every tab still gets each event exactly once and only its
	 * own RPC replies. Where `SharedWorker` does not exist (Chrome on Android, SSR) or fails to
	 * start, each client uses its own direct socket instead, as with `shared: false`.
	 *
	 * With the shared socket, the first tab to open a room decides its socket settings
	 * (`reconnect`, `connectTimeoutMs`, `pingIntervalMs`, `pongTimeoutMs`, `callTimeoutMs`,
	 * `sendQueueSize`), `url` is called once per join instead of once per attempt (tabs whose URLs
	 * differ get separate sockets), and `clock`, `random`, `WebSocket` apply to the direct socket
	 * only.
	 *
	 * @default true in a browser with `SharedWorker` (or when `sharedWorker` is given), unless a
	 * `WebSocket` constructor is passed
	 */
	shared?: boolean;
	/**
	 * Opens a new port to the SharedWorker. @default `new SharedWorker(new URL('./shared/worker.js',
	 * import.meta.url), { type: 'module', name: '@delightstack/websocket@<version>' }).port`, which
	 * Vite bundles by itself. Pass your own for a bundler that does not (serve
	 * `@delightstack/websocket/dist/client/shared/worker.js` bundled, keep the name), or to run the
	 * worker's hub in-process in tests.
	 */
	sharedWorker?: OpenPort;
	/**
	 * How the client reaches rooms. @default the shared connection (see `shared`), else a direct
	 * WebSocket per client (`SocketTransport`) built from the options above. Passing one also lets
	 * `connect()` run outside a browser.
	 */
	transport?: TransportFactory<RoomRpc<Api>>;
}

/**
 * A reactive connection to one room at a time.
 *
 * ```svelte
 * <script lang="ts">
 *   const ws = new WebsocketClient<Meta, Events, ChatApi>();
 *   $effect(() => {
 *     ws.connect(data.org_id);
 *     return () => ws.destroy();
 *   });
 *   ws.on('chat:message', (m) => messages.push(m)); // typed by Events
 * </script>
 * <p>{ws.status} · {ws.users.length} online</p>       <!-- reactive -->
 * ```
 *
 * `status`, `connected`, `room`, `presence`, `sessions`, `users`, `isLive`, `nextRetry` and `error` are
 * reactive. `connect`, `disconnect`, `destroy`, `retryNow`, `send` and `rpc` read no reactive state
 * on the caller's behalf, so an `$effect` that calls them runs once, not again on every status
 * change.
 *
 * Safe to construct during SSR: the constructor touches no browser global and opens nothing, and
 * `connect()` on the server resolves without connecting.
 *
 * @typeParam Meta the session metadata the handle assigns (`AuthSessionMeta` by default).
 * @typeParam Events the room's own events: name → payload type.
 * @typeParam Api the room's `RoomApi` class, for a typed `rpc`.
 */
export class WebsocketClient<Meta = AuthSessionMeta, Events extends object = EventMap, Api = unknown, Messages extends object = Events> extends RoomClientCore<
	Meta,
	Events,
	Api,
	Messages
> {
	constructor(options: WebsocketClientOptions<Api> = {}) {
		const url = options.url ?? sameOriginUrl;
		super(options, {
			reactivity: svelteReactivity,
			url,
			names: { className: 'WebsocketClient', variable: 'ws' },
			canConnect: typeof window !== 'undefined' || options.WebSocket !== undefined || options.transport !== undefined || options.sharedWorker !== undefined,
			transport(listener, ownSocket, { since, debug, settings }) {
				if (options.transport) return options.transport(listener);
				// `sharedWorkerSupported()` reads no global but `window` on the server.
				const openPort = options.sharedWorker ?? (sharedWorkerSupported() ? openSharedWorkerPort : undefined);
				const shared = openPort !== undefined && (options.shared ?? (options.sharedWorker !== undefined || options.WebSocket === undefined));
				if (!shared) return ownSocket(listener);
				return sharedTransport(listener, { openPort, url, since, settings, clock: options.clock, wakeSignals: options.wakeSignals, debug }, ownSocket);
			},
		});
	}
}
