/**
 * capnweb, loaded when a client first needs a session. Plain calls and events never do (the
 * shortcut, `shortcut/`), so the browser's first load leaves capnweb out: `session-batch.ts` and
 * capnweb come in as one chunk of their own (a dynamic `import()`, which app bundlers split off),
 * fetched on the first call that needs a session — pipelining, stubs or callbacks, several calls in
 * one batch — or ahead of it by {@link prefetchSessions}, which the client runs once connected.
 */
import { lazyChunk } from './lazy-chunk.js';
import type * as SessionKit from './session-batch.js';

/** What the chunk offers: capnweb sessions over batches (`session-batch.ts`). */
export type Sessions = typeof SessionKit;

const chunk = lazyChunk(
	(): Promise<Sessions> => import('./session-batch.js'),
	'sessions_unavailable',
	'This call needs capnweb (pipelining, stubs or several calls at once), and its code could not be loaded',
);

/** Where the chunk comes from (tests replace its `load`). */
export const sessionChunk = chunk.source;

/** capnweb's sessions if loaded already, else `undefined`. */
export const sessionsNow = chunk.now;

/**
 * capnweb's sessions, loading them if needed. Rejects with a `RoomError` (`sessions_unavailable`)
 * when the chunk cannot be loaded (offline, a deploy removed it); the next call tries again.
 */
export const loadSessions = chunk.load;

/** Starts loading capnweb's sessions in the background, so a later call needing one need not wait. */
export const prefetchSessions = chunk.prefetch;

/** Forgets the loaded chunk (tests: the next session call loads it again through `sessionChunk.load`). */
export const forgetSessions = chunk.forget;
