/**
 * The benchmark Worker: every room side by side in one workerd process, so every figure is
 * measured against a baseline that ran on the same runtime, in the same run.
 *
 *   /ours?room=<room>             our room (`compression: false`, as it ships), through `createWebsocketHandle`
 *   /ours-deflate?room=<room>     our room with `compression: true` (`--deflate` runs), through the handle
 *   /ours-unbatched?room=<room>   our room with `presenceBatchMs: 0` (the connect storm's comparison)
 *   /ours-window?room=<room>      our room with window presence, each socket its own user (the `shards` scenario)
 *   /ours-sharded?room=<room>     the same room over 10 shards (`shards: { count: 10 }`)
 *   /bare?room=<room>             a hibernating Durable Object with no library: the physical limit
 *   /party?room=<room>            partyserver's `Server` with `hibernate: true`
 *   /bare-async?room=<room>       diagnostic: the bare room with an `async` handler
 *   /primer?room=<room>           the idle scenarios' primer, never measured (`variant` ignored)
 *   …&variant=counted             the same room, counting its constructions and handler calls
 *   /counters/<room>?impl=<impl>  those counts, read from module scope: this never wakes the room
 *
 * Our rooms get the upgrade the way a SvelteKit app's do: the handle from
 * `@delightstack/websocket/server` is called with the request's `RequestEvent` and hands the socket
 * to the room's Durable Object. The baselines' upgrades go straight to theirs.
 */
import type { RoomNamespace } from '@delightstack/websocket/server';
import type { Handle, RequestEvent } from '@sveltejs/kit';
import { countsOf } from './counted.js';
import { ourHandle, requestEvent } from './ours.js';

export { BareAsyncRoom, BareRoom, PartyRoom, PrimerRoom } from './baselines.js';
export { CountedBareRoom, CountedBenchRoom, CountedDeflateBenchRoom, CountedPartyRoom } from './counted.js';
export { BenchRoom, DeflateBenchRoom, ShardedBenchRoom, UnbatchedBenchRoom, WindowBenchRoom } from './ours.js';

/** The Durable Object bindings (`BENCH_WORKER` in `bench/driver/workerd.ts`). */
interface Env {
	OURS: DurableObjectNamespace;
	OURS_DEFLATE: DurableObjectNamespace;
	OURS_UNBATCHED: DurableObjectNamespace;
	OURS_WINDOW: DurableObjectNamespace;
	OURS_SHARDED: DurableObjectNamespace;
	BARE: DurableObjectNamespace;
	PARTY: DurableObjectNamespace;
	BARE_ASYNC: DurableObjectNamespace;
	PRIMER: DurableObjectNamespace;
	OURS_COUNTED: DurableObjectNamespace;
	OURS_DEFLATE_COUNTED: DurableObjectNamespace;
	BARE_COUNTED: DurableObjectNamespace;
	PARTY_COUNTED: DurableObjectNamespace;
}

/** What adapter-cloudflare puts in `event.platform` (the part the handles read). */
interface Platform {
	env: Env;
}

const counted = (url: URL) => url.searchParams.get('variant') === 'counted';

/** An app's `getServer`: the namespace from `event.platform.env` (here: which of our rooms). */
function getServer(plain: keyof Env, countedBinding?: keyof Env) {
	return (event: RequestEvent): RoomNamespace => {
		const { env } = event.platform as Platform;
		return env[countedBinding && counted(event.url) ? countedBinding : plain];
	};
}

/**
 * Who a socket of `/ours` is: one user for every socket (the throughput scenarios hammer one user),
 * but in the counted rooms (eviction, keep-alive) each socket is a user of its own, as in a room of
 * people: by default a user holds at most 16 sockets of a room (`maxSocketsPerUser`).
 */
const userOf = (event: RequestEvent) => (counted(event.url) ? crypto.randomUUID() : 'bench');

const OUR_HANDLES = new Map<string, Handle>([
	['/ours', ourHandle('/ours', getServer('OURS', 'OURS_COUNTED'), userOf)],
	['/ours-deflate', ourHandle('/ours-deflate', getServer('OURS_DEFLATE', 'OURS_DEFLATE_COUNTED'), userOf)],
	['/ours-unbatched', ourHandle('/ours-unbatched', getServer('OURS_UNBATCHED'))],
	['/ours-window', ourHandle('/ours-window', getServer('OURS_WINDOW'), () => crypto.randomUUID())],
	['/ours-sharded', ourHandle('/ours-sharded', getServer('OURS_SHARDED'), () => crypto.randomUUID())],
]);

function baseline(env: Env, path: string, isCounted: boolean): RoomNamespace | undefined {
	switch (path) {
		case '/bare':
			return isCounted ? env.BARE_COUNTED : env.BARE;
		case '/party':
			return isCounted ? env.PARTY_COUNTED : env.PARTY;
		case '/bare-async':
			return env.BARE_ASYNC;
		case '/primer':
			return env.PRIMER;
	}
	return undefined;
}

const notFound = () => new Response('not found', { status: 404 });

export default {
	async fetch(request: Request, env: Env): Promise<Response> {
		const url = new URL(request.url);
		const handle = OUR_HANDLES.get(url.pathname);
		if (handle) return handle({ event: requestEvent(request, { env } satisfies Platform), resolve: notFound });
		if (url.pathname.startsWith('/counters/')) {
			const room = decodeURIComponent(url.pathname.slice('/counters/'.length));
			return Response.json(countsOf(url.searchParams.get('impl') ?? '', room));
		}
		const room = url.searchParams.get('room');
		const rooms = baseline(env, url.pathname, counted(url));
		if (!rooms || !room) return new Response('room and a known path required', { status: 400 });
		return rooms.get(rooms.idFromName(room)).fetch(request);
	},
};
