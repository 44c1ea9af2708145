/**
 * capnweb, loaded when a client first needs a session. Plain calls and events never do (the
 * shortcut, `shortcut/`), so the browser's first load leaves capnweb out: `session-batch.ts` and
 * capnweb come in as one chunk of their own (a dynamic `import()`, which app bundlers split off),
 * fetched on the first call that needs a session — pipelining, stubs or callbacks, several calls in
 * one batch — or ahead of it by {@link prefetchSessions}, which the client runs once connected.
 */
import { RoomError } from '../rpc/errors.js';
import type * as SessionKit from './session-batch.js';

/** What the chunk offers: capnweb sessions over batches (`session-batch.ts`). */
export type Sessions = typeof SessionKit;

let loaded: Sessions | undefined;
let loading: Promise<Sessions> | undefined;

/**
 * Where the chunk comes from. Tests replace it to count loads or make one fail; `imports` counts
 * the loads started.
 */
export const sessionChunk = {
	load: (): Promise<Sessions> => import('./session-batch.js'),
	imports: 0,
};

/** capnweb's sessions if loaded already, else `undefined`. */
export function sessionsNow(): Sessions | undefined {
	return loaded;
}

/**
 * capnweb's sessions, loading them if needed. Rejects with a `RoomError` (`sessions_unavailable`)
 * when the chunk cannot be loaded (offline, a deploy removed it); the next call tries again.
 */
export function loadSessions(): Promise<Sessions> {
	if (loaded) return Promise.resolve(loaded);
	if (!loading) {
		sessionChunk.imports++;
		const attempt = Promise.resolve()
			.then(() => sessionChunk.load())
			.then(
				(sessions) => {
					if (loading === attempt) loaded = sessions;
					return sessions;
				},
				(cause: unknown) => {
					if (loading === attempt) loading = undefined;
					const why = cause instanceof Error ? cause.message : String(cause);
					throw Object.assign(
						new RoomError('sessions_unavailable', `This call needs capnweb (pipelining, stubs or several calls at once), and its code could not be loaded: ${why}`, 0),
						{ cause },
					);
				},
			);
		loading = attempt;
	}
	return loading;
}

/** Starts loading capnweb's sessions in the background, so a later call needing one need not wait. */
export function prefetchSessions(): void {
	if (!loaded) loadSessions().catch(() => {});
}

/** Forgets the loaded chunk (tests: the next session call loads it again through `sessionChunk.load`). */
export function forgetSessions(): void {
	loaded = undefined;
	loading = undefined;
}
