/** Where a client connects: the room's WebSocket URL from an endpoint, or from the page's origin. */

/** The path the handle takes upgrades on by default (`createWebsocketHandle`'s `path`). */
const DEFAULT_PATH = '/api/websocket';

/**
 * The URL of `room` at `endpoint`: an origin (the default path is added) or a full socket URL
 * (kept, with its query), `http(s)` turned into `ws(s)`, the room as `?room=`.
 */
export function roomUrl(endpoint: string, room: string): string {
	const url = new URL(endpoint);
	url.protocol = url.protocol === 'https:' || url.protocol === 'wss:' ? 'wss:' : 'ws:';
	if (url.pathname === '/' || url.pathname === '') url.pathname = DEFAULT_PATH;
	url.searchParams.set('room', room);
	return url.toString();
}

/** The default room URL in a browser: the page's origin, `/api/websocket`, the room as `?room=`. */
export function sameOriginUrl(room: string): string {
	const location = (globalThis as { location?: Location }).location;
	if (!location) throw new Error('No location to derive the WebSocket URL from; pass `url` to WebsocketClient');
	return roomUrl(location.origin, room);
}
