/**
 * The implementations a scenario can run. The table's three by default; the diagnostic ones
 * (`--impl`) take the library apart to show where its cost comes from:
 *
 * - `bare-async`: the bare room with an `async` message handler that awaits once before answering.
 * - `capnweb`: a bare room that answers our frame format with `answerBatch` (a fresh capnweb
 *   session per frame) and nothing else of the library: no sessions, rate limit, or attachments.
 * - `ours-unbatched`: our room with `presenceBatchMs: 0`, every join and leave announced in its own
 *   frame. The connect storm runs it next to `ours` to show what coalescing presence saves.
 */
export type Impl = 'ours' | 'bare' | 'party' | 'bare-async' | 'capnweb' | 'ours-unbatched';
export const IMPLS: readonly Impl[] = ['ours', 'bare', 'party'];
export const ALL_IMPLS: readonly Impl[] = [...IMPLS, 'bare-async', 'capnweb', 'ours-unbatched'];

/** Which client protocol an implementation speaks: our frames, or the plain echo/"b" protocol. */
export function speaksFrames(impl: Impl): boolean {
	return impl === 'ours' || impl === 'capnweb' || impl === 'ours-unbatched';
}

/** Whether the room announces presence (`session:list`, `session:connected`…): ours only. */
export function hasPresence(impl: Impl): boolean {
	return impl === 'ours' || impl === 'ours-unbatched';
}
