/**
 * capnweb, loaded when a client first needs a session. Plain calls and events never do (the
 * shortcut, `shortcut/`), so the browser's first load leaves capnweb out: `session-batch.ts` and
 * capnweb come in as one chunk of their own (a dynamic `import()`, which app bundlers split off),
 * fetched on the first call that needs a session — pipelining, stubs or callbacks, several calls in
 * one batch — or ahead of it by {@link sessionChunk.prefetch}, which the client runs once connected.
 */
import { BATCH_KIT } from './batch-delivery.js';
import { lazyChunk } from './lazy-chunk.js';
import type * as SessionKit from './session-batch.js';

/** What the chunk offers: capnweb sessions over batches (`session-batch.ts`). */
export type Sessions = typeof SessionKit;

/**
 * capnweb's sessions: `now()` if loaded, `load()` (rejects with a `RoomError`, `sessions_unavailable`,
 * when the chunk cannot be loaded: offline, a deploy removed it; the next call tries again),
 * `prefetch()` once connected so that a later call needing one need not wait.
 */
export const sessionChunk = lazyChunk(
	(): Promise<Sessions> => import('./session-batch.js').then((kit) => (kit.useKit(BATCH_KIT), kit)),
	'sessions_unavailable',
	'This call needs capnweb (pipelining, stubs or several calls at once), and its code could not be loaded',
);
