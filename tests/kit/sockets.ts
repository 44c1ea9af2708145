/**
 * What the workerd tests of the handle and of `handleUpgrade` do with a Worker in front of the test
 * room: open sockets through it with the headers a browser (or an attacker) would send, read what
 * it refused and how, and ask the room who joined (the Worker's `/sessions/<room>` route).
 */
import { expect } from 'bun:test';
import type { Miniflare } from 'miniflare';
import type { RefusalBody } from '../../kit/index.js';
import { ackFrame } from '../../rpc/frame.js';
import type { Session } from '../../rpc/types.js';
import { WIRE_PARAM, WIRE_VERSION } from '../../rpc/wire-version.js';

/**
 * Bun's WebSocket takes request headers (a browser's cannot, but it sends `Origin` and cookies
 * itself); the DOM typings in scope only know the browser's constructor.
 */
export const HeaderedWebSocket = WebSocket as unknown as new (url: string, options: { headers: Record<string, string> }) => WebSocket;

export interface WorkerUnderTest {
	mf: Miniflare;
	origin: string;
	wsOrigin: string;
}

/** Reads the handle's refusal notice: one push frame, `confirm(nonce)` then `closing(code, reason)`. */
export function refusalNotice(frame: string): { nonce: string; closing: [number, string] } {
	const [tag, ...lines] = frame.split('\n');
	expect(tag).toBe('e');
	const calls = lines.map((line) => JSON.parse(line) as ['push', ['pipeline', 0, [string], unknown[]]]);
	expect(calls.map(([, [, , [method]]]) => method)).toEqual(['confirm', 'closing']);
	return { nonce: calls[0]![1][3][0] as string, closing: calls[1]![1][3] as [number, string] };
}

/**
 * `path` as our client asks for it: stating its wire version, unless `path` states one itself (the
 * handle refuses a page of another version, and one that states none is of version 1).
 */
export function statingWire(path: string): string {
	return new RegExp(`[?&]${WIRE_PARAM}=`).test(path) ? path : `${path}${path.includes('?') ? '&' : '?'}${WIRE_PARAM}=${WIRE_VERSION}`;
}

export function socketsTo(worker: () => WorkerUnderTest) {
	return {
		/** Opens a socket; resolves once it is open, with the first frame the room sent. */
		async open(path: string, headers: Record<string, string>): Promise<{ ws: WebSocket; first: string }> {
			const ws = new HeaderedWebSocket(`${worker().wsOrigin}${statingWire(path)}`, { headers });
			const first = new Promise<string>((resolve, reject) => {
				ws.addEventListener('message', (e) => resolve(String(e.data)), { once: true });
				ws.addEventListener('close', (e) => reject(new Error(`closed before the first frame (${e.code})`)), { once: true });
			});
			await new Promise<void>((resolve, reject) => {
				ws.addEventListener('open', () => resolve(), { once: true });
				ws.addEventListener('error', () => reject(new Error('the upgrade was refused')), { once: true });
			});
			return { ws, first: await first };
		},

		async close(ws: WebSocket): Promise<void> {
			if (ws.readyState === WebSocket.CLOSED) return;
			const closed = new Promise<void>((resolve) => ws.addEventListener('close', () => resolve(), { once: true }));
			ws.close(1000);
			await closed;
		},

		/** Who the room says is in it, through Workers RPC. */
		async sessions(room: string): Promise<Session<Record<string, unknown>>[]> {
			const res = await fetch(`${worker().origin}/sessions/${encodeURIComponent(room)}`);
			expect(res.status).toBe(200);
			return (await res.json()) as Session<Record<string, unknown>>[];
		},

		/** An upgrade request dispatched into workerd, to read the status and body of a refusal. */
		async upgradeStatus(path: string, headers: Record<string, string>): Promise<{ status: number; body: RefusalBody }> {
			const res = await worker().mf.dispatchFetch(`${worker().origin}${statingWire(path)}`, {
				headers: { upgrade: 'websocket', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13', ...headers },
			});
			expect(res.headers.get('content-type')).toStartWith('application/json');
			return { status: res.status, body: (await res.json()) as RefusalBody };
		},

		/** Opens a real socket and resolves with how it was closed. */
		/**
		 * Opens a socket the handle refuses after the handshake (401 / 403) and resolves with its close.
		 * The handle's only frame is its refusal notice (`confirm`, then `closing` with the same code and
		 * reason as the close); the socket answers it as every client does, unless `silent`. Unless
		 * `stating` is false, the path states the wire version as our client does.
		 */
		closedWith(path: string, headers: Record<string, string>, { silent = false, stating = true } = {}): Promise<{ code: number; reason: string }> {
			const ws = new HeaderedWebSocket(`${worker().wsOrigin}${stating ? statingWire(path) : path}`, { headers });
			const frames: string[] = [];
			ws.addEventListener('message', (e) => {
				frames.push(String(e.data));
				if (!silent) ws.send(ackFrame(refusalNotice(String(e.data)).nonce));
			});
			return new Promise((resolve) =>
				ws.addEventListener(
					'close',
					(e) => {
						expect(frames.map((frame) => refusalNotice(frame).closing)).toEqual([[e.code, e.reason]]);
						resolve({ code: e.code, reason: e.reason });
					},
					{ once: true },
				),
			);
		},
	};
}
