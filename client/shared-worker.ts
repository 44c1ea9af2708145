/**
 * Starts (or reaches) the SharedWorker that holds one socket per room for every tab of an origin.
 *
 * The constructor call below is written exactly as bundlers recognise it (a `SharedWorker` of a
 * `URL` relative to `import.meta.url`, with literal options), so an app's Vite build bundles
 * `shared/worker.js` and its imports into a worker asset and rewrites the URL to it; no
 * configuration is needed in production builds. (Vite dev mode: see client/shared/README.md.)
 *
 * The worker's `name` carries the package version: browsers share a SharedWorker only between
 * constructors with the same URL *and* name, so pages of a new deploy start a new worker instead
 * of talking to the previous version's.
 */
import { HandOverTransport } from './hand-over.js';
import { PortTransport, type OpenPort, type PortTransportOptions } from './shared/port-transport.js';
import type { RoomTransport, TransportHandlers } from './transport.js';

/** The name of this version's worker. Keep equal to the literal in {@link openSharedWorkerPort}. */
export const SHARED_WORKER_NAME = '@delightstack/websocket@0.1.0';

/** Whether this environment can run the shared connection at all (not during SSR, not on Chrome Android). */
export function sharedWorkerSupported(): boolean {
	return typeof window !== 'undefined' && typeof SharedWorker === 'function';
}

/** A new port to the worker (a new `SharedWorker` object; the worker itself is shared). */
export const openSharedWorkerPort: OpenPort = (onError) => {
	// Literal options: Vite reads them statically (older versions refuse a non-literal object).
	const worker = new SharedWorker(new URL('./shared/worker.js', import.meta.url), {
		type: 'module',
		name: '@delightstack/websocket@0.1.0',
	});
	worker.addEventListener('error', (event) => onError(event instanceof ErrorEvent && event.message ? event.message : 'the shared worker failed to start'));
	return worker.port;
};

/**
 * The transport `WebsocketClient` uses by default in browsers: the shared connection over ports
 * from `options.openPort` (normally {@link openSharedWorkerPort}), handing over to `direct` (a
 * socket of this client's own) if the worker cannot be used (see `hand-over.ts`).
 */
export function sharedTransport<Remote>(
	handlers: TransportHandlers,
	options: Pick<PortTransportOptions, 'openPort' | 'url' | 'since' | 'settings' | 'clock' | 'wakeSignals' | 'debug'>,
	direct: (handlers: TransportHandlers) => RoomTransport<Remote>,
): RoomTransport<Remote> {
	return new HandOverTransport<Remote>(
		handlers,
		(handlers, handOver) =>
			new PortTransport<Remote>(handlers, {
				...options,
				onUnavailable: (_error, queued) => handOver(queued),
			}),
		direct,
	);
}
