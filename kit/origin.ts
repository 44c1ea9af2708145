/**
 * The `Origin` check that stops cross-site WebSocket hijacking.
 *
 * Browsers attach cookies to a WebSocket upgrade whatever page opened it, and upgrades are not subject
 * to CORS: without this check, any site a signed-in user visits could open a socket into their rooms
 * with their session. Browsers always send `Origin` on an upgrade and pages cannot forge it, so the
 * handle accepts only origins it was told about: its own by default.
 */
import type { RequestEvent } from '@sveltejs/kit';

/**
 * Which pages may open sockets, besides the app's own origin (always allowed):
 * - a list of origins (`'https://app.example.com'`; normalized, so a trailing slash or upper case
 *   does not matter);
 * - or a function deciding per request (it gets the `RequestEvent` in SvelteKit, the `Request` in
 *   `handleUpgrade`). It also sees upgrades without an `Origin` (`null`), which
 *   only non-browser clients send: return `true` for those only if they authenticate some way a
 *   browser cannot be tricked into (not cookies).
 */
export type AllowedOrigins<Context = RequestEvent> = readonly string[] | ((origin: string | null, context: Context) => boolean);

/**
 * Builds the check once per handle, so a list is parsed once rather than per request.
 *
 * Browsers serialize `Origin` exactly as `URL.origin` does (lower-case scheme and host, no default
 * port, no path), so the comparison is plain string equality; only the configured list is normalized.
 */
export function originChecker<Context>(
	allowed: AllowedOrigins<Context> | undefined,
	caller: string,
): (request: Request, url: URL, context: Context) => boolean {
	if (typeof allowed === 'function') {
		return (request, url, context) => {
			const origin = request.headers.get('origin');
			return origin === url.origin || allowed(origin, context) === true;
		};
	}
	const listed = new Set((allowed ?? []).map((origin) => normalizeListed(origin, caller)));
	return (request, url) => {
		const origin = request.headers.get('origin');
		return origin !== null && (origin === url.origin || listed.has(origin));
	};
}

function normalizeListed(origin: string, caller: string): string {
	let normalized: string | undefined;
	try {
		normalized = new URL(origin).origin;
	} catch {
		normalized = undefined;
	}
	// `null` is what `URL` answers for opaque origins (`file:`, `data:`): never a page we can trust.
	if (!normalized || normalized === 'null') {
		throw new TypeError(`${caller}: allowedOrigins has "${origin}", which is not an origin like "https://app.example.com"`);
	}
	return normalized;
}
