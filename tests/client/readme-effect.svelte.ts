/**
 * The README's component pattern, run the way a component runs it: an `$effect` that connects and
 * destroys on cleanup. Compiled as a rune module by the svelte preload (client runtime).
 */
import { flushSync } from 'svelte';
import type { WebsocketClient } from '../../client/websocket-client.svelte.js';

/**
 * Mounts `$effect(() => { ws.connect(room); return () => ws.destroy(); })` and reads `ws.status`
 * in another effect, as markup would (`<p>{ws.status}</p>`). Returns how often the effect ran, the
 * statuses the markup saw, and `unmount`.
 */
export function mountReadmePattern(ws: WebsocketClient<any, any, any>, room: string) {
	const seen = { runs: 0, cleanups: 0, statuses: [] as string[] };
	const unmount = $effect.root(() => {
		$effect(() => {
			seen.runs++;
			ws.connect(room);
			return () => {
				seen.cleanups++;
				ws.destroy();
			};
		});
		$effect(() => {
			seen.statuses.push(ws.status);
		});
	});
	flushSync();
	return { seen, unmount };
}
