/**
 * The test Worker (tests/worker) with one room over 3 shards (`ShardedRoom`, bound as `ROOM`; rooms
 * named `batched-…` are `BatchedShardedRoom`s, bound as `BATCHED`), plus a
 * route that calls a public method on one given shard through Workers RPC: `/shard/<room>/<index>`.
 */
import testWorker, { TestRoom } from '../worker/index.js';
import { shardName } from '../../rpc/shards.js';

export { TestRoom };

const SHARDS = 3;

/** The test room over 3 shards, window presence of 5, every presence change sent at once. */
export class ShardedRoom extends TestRoom {
	static override options = { ...TestRoom.options, shards: { count: SHARDS, binding: 'ROOM' }, presence: { window: 5 }, presenceBatchMs: 0 };
}

/** The same with presence gathered as it ships (`presenceBatchMs` 50), for rooms named `batched-…`. */
export class BatchedShardedRoom extends TestRoom {
	static override options = { ...TestRoom.options, shards: { count: SHARDS, binding: 'BATCHED' }, presence: { window: 5 } };
}

interface Env {
	ROOM: DurableObjectNamespace<ShardedRoom>;
	BATCHED: DurableObjectNamespace<BatchedShardedRoom>;
}

export default {
	async fetch(request: Request, env: Env): Promise<Response> {
		const [, route, room, index] = new URL(request.url).pathname.split('/');
		const rooms = room?.startsWith('batched-') ? env.BATCHED : env.ROOM;
		if (route !== 'shard') return testWorker.fetch(request, { ROOM: rooms } as Parameters<typeof testWorker.fetch>[1]);
		const { method, args } = (await request.json()) as { method: string; args: unknown[] };
		const stub = rooms.get(rooms.idFromName(shardName(decodeURIComponent(room!), Number(index)))) as unknown as Record<
			string,
			(...args: unknown[]) => Promise<unknown>
		>;
		return Response.json({ result: (await stub[method]!(...args)) ?? null });
	},
};
