/**
 * A stand-in room on `Bun.serve` (127.0.0.1 only) for what a real room will not do on request:
 * ignore pings, close every socket right after accepting it, refuse the handshake, close with a
 * terminal code. It speaks just enough of the protocol: the `session:list` a room sends first, and
 * `pong` for `ping` when told to.
 */
import type { Server, ServerWebSocket } from 'bun';
import { PING, PONG, eventLine, eventsFrame } from '../../rpc/frame.js';
import { encodePayload } from '../../rpc/payload.js';

export interface FakeRoomBehaviour {
	/** Answer `ping` with `pong`. */
	answerPings: boolean;
	/** Refuse the upgrade with this HTTP status instead of accepting. */
	refuseWith: number | null;
	/** Send the `session:list` a room sends first. */
	sendList: boolean;
	/** Close each socket with this code right after accepting it (and sending the list). */
	closeWith: number | null;
}

export class FakeRoom {
	readonly server: Server<undefined>;
	behaviour: FakeRoomBehaviour = { answerPings: true, refuseWith: null, sendList: true, closeWith: null };
	readonly #open = new Set<ServerWebSocket<undefined>>();
	/** Upgrade requests seen (accepted or refused). */
	attempts = 0;
	/** Sockets accepted. */
	accepted = 0;
	/** The URL of every upgrade request seen. */
	readonly urls: string[] = [];
	readonly received: string[] = [];
	#waiters: Array<() => void> = [];

	constructor() {
		this.server = Bun.serve({
			hostname: '127.0.0.1',
			port: 0,
			fetch: (request, server) => {
				this.attempts++;
				this.urls.push(request.url);
				this.#wake();
				if (this.behaviour.refuseWith !== null) return new Response('refused', { status: this.behaviour.refuseWith });
				if (server.upgrade(request)) return undefined;
				return new Response('upgrade required', { status: 426 });
			},
			websocket: {
				open: (ws: ServerWebSocket<undefined>) => {
					this.accepted++;
					this.#open.add(ws);
					const list = { sessions: [{ ws_session_id: `s${this.accepted}`, meta: { user_id: 'ann' } }] };
					if (this.behaviour.sendList) ws.send(eventsFrame([eventLine('session:list', encodePayload(list))]));
					if (this.behaviour.closeWith !== null) ws.close(this.behaviour.closeWith, 'fake room closes');
					this.#wake();
				},
				close: (ws) => {
					this.#open.delete(ws);
				},
				message: (ws, message) => {
					this.received.push(String(message));
					if (message === PING && this.behaviour.answerPings) ws.send(PONG);
					this.#wake();
				},
			},
		});
	}

	get url(): string {
		return `ws://127.0.0.1:${this.server.port}/`;
	}

	/** Resolves once `predicate` holds, re-checked at each upgrade, open and message (no polling). */
	async until(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
		const deadline = Date.now() + timeoutMs;
		while (!predicate()) {
			const left = deadline - Date.now();
			if (left <= 0) throw new Error(`fake room: timed out waiting for ${what}`);
			await new Promise<void>((resolve) => {
				const timer = setTimeout(resolve, left);
				this.#waiters.push(() => (clearTimeout(timer), resolve()));
			});
		}
	}

	/** Closes every open socket with `code` (a clean close: the client sees `close` at once). */
	closeAll(code: number): void {
		for (const ws of this.#open) ws.close(code, 'fake room closes all');
	}

	stop(): void {
		this.server.stop(true);
	}

	#wake(): void {
		for (const wake of this.#waiters.splice(0)) wake();
	}
}
