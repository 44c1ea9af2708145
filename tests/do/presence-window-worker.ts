/**
 * The test Worker (tests/worker) with window presence: the same room, hooks and routes, served by
 * room classes that differ only in their `presence` options, chosen by the room name's prefix.
 */
import testWorker, { TestRoom } from '../worker/index.js';

export { TestRoom };

/** `presence: { window: 5, pageSize: 7 }`, every change sent at once (`presenceBatchMs: 0`): one frame per join. */
export class WindowRoom extends TestRoom {
	static override options = { ...TestRoom.options, presence: { window: 5, pageSize: 7 }, presenceBatchMs: 0 };
}

/** The same window with presence coalescing as it ships (rooms named `batched-…`). */
export class BatchedWindowRoom extends TestRoom {
	static override options = { ...TestRoom.options, presence: { window: 5, pageSize: 7 } };
}

interface Env {
	WINDOW: DurableObjectNamespace<WindowRoom>;
	BATCHED: DurableObjectNamespace<BatchedWindowRoom>;
	FULL: DurableObjectNamespace<TestRoom>;
}

export default {
	fetch(request: Request, env: Env): Promise<Response> {
		const room = decodeURIComponent(new URL(request.url).pathname.split('/')[2] ?? '');
		const ROOM = room.startsWith('batched-') ? env.BATCHED : room.startsWith('full-') ? env.FULL : env.WINDOW;
		return testWorker.fetch(request, { ROOM } as Parameters<typeof testWorker.fetch>[1]);
	},
};
