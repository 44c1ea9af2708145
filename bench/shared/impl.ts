/**
 * The implementations a scenario can run. The table's three by default:
 *
 * - `ours`: our room (`WebsocketServer`) behind `createWebsocketHandle`, driven by `WebsocketClient`.
 * - `bare`: a hibernating Durable Object with no library, driven by a plain WebSocket.
 * - `party`: partyserver's `Server` with hibernation, driven by a plain WebSocket.
 *
 * And with `--impl`:
 *
 * - `bare-async`: the bare room with an `async` message handler that awaits once before answering.
 * - `ours-unbatched`: our room with `presenceBatchMs: 0`, every join and leave announced in its own
 *   frame. The connect storm runs it next to `ours` to show what coalescing presence saves.
 * - `ours-window`: our room with window presence (`{ window: 50 }`), each socket its own user: one
 *   Durable Object, the `shards` scenario's baseline.
 * - `ours-sharded`: the same room over 10 shards (`shards: { count: 10 }`), in the same workerd.
 *
 * Never measured: `primer`, the idle scenarios' room of a class of its own (`scenarios/idle.ts`).
 *
 * Every implementation runs in the run's one compression configuration (`--deflate`, see
 * `options.ts`): never one side compressed and the other not.
 */
export type Impl = 'ours' | 'bare' | 'party' | 'bare-async' | 'ours-unbatched' | 'ours-window' | 'ours-sharded' | 'primer';
export const IMPLS: readonly Impl[] = ['ours', 'bare', 'party'];
export const ALL_IMPLS: readonly Impl[] = [...IMPLS, 'bare-async', 'ours-unbatched', 'ours-window', 'ours-sharded'];

/** Whether it is our room, reached through `WebsocketClient` (the others through a plain WebSocket). */
export function isOurs(impl: Impl): boolean {
	return impl === 'ours' || impl === 'ours-unbatched' || impl === 'ours-window' || impl === 'ours-sharded';
}

/** Whether the room announces presence (`session:list`, `session:connected`…): ours only. */
export const hasPresence = isOurs;

/**
 * The Worker path of an implementation's rooms (`bench/worker/index.ts`). With `deflate`, our room
 * is the one with `compression: true`: it accepts permessage-deflate as the baselines do.
 */
export function roomPath(impl: Impl, deflate: boolean): string {
	return impl === 'ours' && deflate ? '/ours-deflate' : `/${impl}`;
}

/** Implementations that cannot run with permessage-deflate on both sides. */
export const UNCOMPRESSED_ONLY: readonly Impl[] = ['ours-unbatched', 'ours-window', 'ours-sharded'];
