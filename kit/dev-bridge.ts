/**
 * `vite dev` only: how the package's Vite plugin (`@delightstack/websocket/vite`) asks the app's own
 * handle who a socket is, before it opens that socket into the room running in local workerd.
 *
 * Under `vite dev` the app's hooks run in Node while the room runs in workerd, and Vite hands a
 * WebSocket upgrade to no SvelteKit hook. So the plugin sends the upgrade's headers (cookies,
 * `Origin`, `Host`) to the socket path as a plain request carrying {@link DEV_AUTHORIZE_HEADER}:
 * the handle runs every check it runs for a real upgrade, and instead of handing the socket to a
 * room it answers with the handoff it would have written. The plugin then opens the socket into the
 * room with that handoff.
 *
 * The header counts only when its value is the secret the plugin registered in this process
 * (`globalThis`, under a `Symbol.for` key, so the app's copy of this module sees it too). Nothing
 * registers one outside `vite dev`, so in a deployed Worker the header means nothing.
 */
import type { Handoff } from '../rpc/protocol.js';
import { encodeHandoff } from './handoff.js';
import { refusal } from './refusal.js';

/** The header that marks the dev server's "who is this socket?" request. */
export const DEV_AUTHORIZE_HEADER = 'x-delightstack-dev-authorize';

const BRIDGE = Symbol.for('@delightstack/websocket/dev-bridge');

/** What the Vite plugin registers for this process (one per process: every dev server shares it). */
export interface DevBridge {
	readonly secret: string;
	/**
	 * The dev rooms' bindings for `platform.env` (read by `withRooms`' `emulate`), current as of the
	 * last reload of the rooms Worker; empty until it has started.
	 */
	env: Record<string, unknown>;
	/** Resolves once the rooms Worker is up (or rejects with why it could not start). */
	ready: Promise<void>;
}

function registered(): DevBridge | undefined {
	return (globalThis as { [BRIDGE]?: DevBridge })[BRIDGE];
}

/** The bridge the Vite plugin opened in this process, if any (never outside `vite dev`). */
export function devBridge(): DevBridge | undefined {
	return registered();
}

/** Registers this process's bridge (the Vite plugin, once per dev server) and returns it. */
export function openDevBridge(): DevBridge {
	const existing = registered();
	if (existing) return existing;
	const bytes = crypto.getRandomValues(new Uint8Array(24));
	const secret = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
	const bridge: DevBridge = { secret, env: {}, ready: Promise.resolve() };
	(globalThis as { [BRIDGE]?: DevBridge })[BRIDGE] = bridge;
	return bridge;
}

/** Which of the bridge's bindings `namespace` is (what the app's `getServer` returned), if any. */
function bindingOf(namespace: object): string | undefined {
	const env = registered()?.env ?? {};
	return Object.keys(env).find((name) => env[name] === namespace);
}

/** Whether `request` is the dev server's authorization request (never true outside `vite dev`). */
export function isDevAuthorizeRequest(request: Request): boolean {
	const bridge = registered();
	return bridge !== undefined && request.headers.get(DEV_AUTHORIZE_HEADER) === bridge.secret;
}

/** The body the dev server reads. */
export interface DevAuthorization {
	/** The handoff header's value, exactly as `handOff` would write it. */
	handoff: string;
	/** The binding the app's `getServer` chose, when it is one of the dev rooms' bindings. */
	binding?: string;
}

/**
 * Marks a dev answer that is `authorize`'s refusal (401/403) or the wire version's (426), which a
 * browser must see as close code 4401/4403/4426; every other refusal (origin, room name, …) fails
 * the handshake, as in production.
 */
export const DEV_SOCKET_REFUSAL_HEADER = 'x-delightstack-dev-socket-refusal';

/** `socketRefusal` for the dev server's question: the plain refusal, marked as one to deliver as a close code. */
export function devSocketRefusal(status: number, code: string, message: string): Response {
	const response = refusal(status, code, message);
	response.headers.set(DEV_SOCKET_REFUSAL_HEADER, '1');
	return response;
}

/** The answer to an authorized dev request; `rooms` is what the app's `getServer` returned. */
export function devAuthorization<Meta>(handoff: Handoff<Meta>, rooms: object): Response {
	const body: DevAuthorization = { handoff: encodeHandoff(handoff), binding: bindingOf(rooms) };
	return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
}
