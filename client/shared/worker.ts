/**
 * The SharedWorker's entry module: every tab's `new SharedWorker(…)` arrives here as a `connect`
 * event carrying that tab's port, which the hub takes from there.
 *
 * Loaded by `client/shared-worker.ts` as `new URL('./shared/worker.js', import.meta.url)`, so a
 * bundler (Vite) builds it, with its imports, into a worker asset of the app.
 */
import { browserWakeSignals } from '../reconnect.js';
import { SharedHub } from './hub.js';

/** The part of `SharedWorkerGlobalScope` used here (the DOM lib has no worker scope types). */
interface SharedWorkerScope {
	onconnect: ((event: MessageEvent) => void) | null;
}

// `browserWakeSignals` listens to the worker's own `online` event (there is no document here).
const hub = new SharedHub({ wakeSignals: browserWakeSignals });

(globalThis as unknown as SharedWorkerScope).onconnect = (event) => {
	const port = event.ports[0];
	if (port) hub.attach(port);
};
