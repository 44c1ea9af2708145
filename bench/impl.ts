/**
 * The implementations a scenario can run. The table's three by default; the diagnostic ones
 * (`--impl`) take the library apart to show where its cost comes from:
 *
 * - `bare-async`: the bare room with an `async` message handler that awaits once before answering.
 * - `capnweb`: a bare room that answers our frame format with `answerBatch` (a fresh capnweb
 *   session per frame) and nothing else of the library: no sessions, rate limit, or attachments.
 * - `ours-unbatched`: our room with `presenceBatchMs: 0`, every join and leave announced in its own
 *   frame. The connect storm runs it next to `ours` to show what coalescing presence saves.
 *
 * And in the table by default: `ours-deflate`, our room with `compression: true`. Our room declines
 * permessage-deflate by default while bare and partyserver accept the client's offer, so `ours`
 * against `bare` compares two configurations; `ours-deflate` against `bare` is like for like.
 */
export type Impl = 'ours' | 'ours-deflate' | 'bare' | 'party' | 'bare-async' | 'capnweb' | 'ours-unbatched';
export const IMPLS: readonly Impl[] = ['ours', 'ours-deflate', 'bare', 'party'];
export const ALL_IMPLS: readonly Impl[] = [...IMPLS, 'bare-async', 'capnweb', 'ours-unbatched'];

/** Which client protocol an implementation speaks: our frames, or the plain echo/"b" protocol. */
export function speaksFrames(impl: Impl): boolean {
	return impl === 'ours' || impl === 'ours-deflate' || impl === 'capnweb' || impl === 'ours-unbatched';
}

/** Whether the room announces presence (`session:list`, `session:connected`…): ours only. */
export function hasPresence(impl: Impl): boolean {
	return impl === 'ours' || impl === 'ours-deflate' || impl === 'ours-unbatched';
}
