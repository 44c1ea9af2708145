/**
 * The change-feed position in a room URL. The room replays every entity change after `since` to a
 * socket that joins with it, so whoever opens a socket (a tab, or the SharedWorker for all tabs)
 * asks for exactly what it has not seen. A socket for which nobody follows entity changes carries
 * no `since`, and the room sends it no catch-up.
 */

/** Adds the change-feed position to a room URL (resolved against the page, if relative); `null` adds nothing. */
export function withSince(url: string, since: number | null): string {
	const parsed = new URL(url, (globalThis as { location?: { href: string } }).location?.href);
	if (since !== null) parsed.searchParams.set('since', String(since));
	return parsed.toString();
}
