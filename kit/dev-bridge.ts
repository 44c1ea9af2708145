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

/** The header that marks the dev server's "who is this socket?" request. */
export const DEV_AUTHORIZE_HEADER = 'x-delightstack-dev-authorize';

const BRIDGE = Symbol.for('@delightstack/websocket/dev-bridge');

interface DevBridge {
	secret: string;
}

function registered(): DevBridge | undefined {
	return (globalThis as { [BRIDGE]?: DevBridge })[BRIDGE];
}

/** Registers this process's secret (the Vite plugin, once per dev server) and returns it. */
export function openDevBridge(): string {
	const existing = registered();
	if (existing) return existing.secret;
	const bytes = crypto.getRandomValues(new Uint8Array(24));
	const secret = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
	(globalThis as { [BRIDGE]?: DevBridge })[BRIDGE] = { secret };
	return secret;
}

/** Whether `request` is the dev server's authorization request (never true outside `vite dev`). */
export function isDevAuthorizeRequest(request: Request): boolean {
	const bridge = registered();
	return bridge !== undefined && request.headers.get(DEV_AUTHORIZE_HEADER) === bridge.secret;
}

/** The body the dev server reads: the handoff header's value, exactly as `handOff` would write it. */
export interface DevAuthorization {
	handoff: string;
}

/** The answer to an authorized dev request. */
export function devAuthorization<Meta>(handoff: Handoff<Meta>): Response {
	const body: DevAuthorization = { handoff: encodeHandoff(handoff) };
	return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
}
