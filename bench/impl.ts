/**
 * The implementations a scenario can run. The table's three by default; the diagnostic ones
 * (`--impl`) take the library apart to show where its cost comes from:
 *
 * - `bare-async`: the bare room with an `async` message handler that awaits once before answering.
 * - `capnweb`: a bare room that answers our frame format with `answerBatch` (a fresh capnweb
 *   session per frame) and nothing else of the library: no sessions, rate limit, or attachments.
 */
export type Impl = 'ours' | 'bare' | 'party' | 'bare-async' | 'capnweb';
export const IMPLS: readonly Impl[] = ['ours', 'bare', 'party'];
export const ALL_IMPLS: readonly Impl[] = [...IMPLS, 'bare-async', 'capnweb'];

/** Which client protocol an implementation speaks: our frames, or the plain echo/"b" protocol. */
export function speaksFrames(impl: Impl): boolean {
	return impl === 'ours' || impl === 'capnweb';
}
