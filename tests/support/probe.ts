/**
 * A test participant: a real `RoomConnection` that records every event and close, and lets a test
 * await the next event of a kind instead of sleeping.
 */
import { RoomConnection } from '../../client/connection.js';
import type { RoomRpc } from '../../rpc/types.js';
import type { TestApi, TestMeta } from '../worker/index.js';
import type { RoomWorker } from './workerd.js';

export interface Received {
	name: string;
	data: any;
}

export class Probe {
	readonly conn: RoomConnection<RoomRpc<TestApi>>;
	readonly events: Received[] = [];
	readonly closed: Promise<{ code: number; reason: string }>;
	/** The socket's session id, from the `session:list` the room sends first. */
	id = '';
	#cursor = 0;
	#waiters: Array<() => void> = [];

	constructor(url: string, options: { callTimeoutMs?: number } = {}) {
		let onClose!: (c: { code: number; reason: string }) => void;
		this.closed = new Promise((resolve) => (onClose = resolve));
		this.conn = new RoomConnection<RoomRpc<TestApi>>(
			url,
			{
				onEvent: (name, data) => {
					this.events.push({ name, data });
					for (const wake of this.#waiters.splice(0)) wake();
				},
				onClose: (code, reason) => onClose({ code, reason }),
			},
			options,
		);
	}

	/** Opens a socket into `room` and waits for its `session:list`. */
	static async join(worker: RoomWorker, room: string, meta: TestMeta, options?: { callTimeoutMs?: number }): Promise<Probe> {
		const probe = new Probe(worker.connectUrl(room, meta), options);
		await probe.conn.opened;
		const list = await probe.next('session:list');
		probe.id = list.sessions.at(-1).ws_session_id;
		return probe;
	}

	get rpc() {
		return this.conn.rpc;
	}

	/** The next event named `name` after the ones already consumed (skipping others). */
	async next(name: string, timeoutMs = 5_000): Promise<any> {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			while (this.#cursor < this.events.length) {
				const e = this.events[this.#cursor++]!;
				if (e.name === name) return e.data;
			}
			const left = deadline - Date.now();
			if (left <= 0) throw new Error(`no "${name}" event within ${timeoutMs} ms; got ${this.names().join(', ')}`);
			await new Promise<void>((resolve) => {
				const timer = setTimeout(resolve, left);
				this.#waiters.push(() => (clearTimeout(timer), resolve()));
			});
		}
	}

	/** Names of every event received so far. */
	names(): string[] {
		return this.events.map((e) => e.name);
	}

	/** Sends a raw frame, bypassing the protocol client. */
	raw(frame: string | ArrayBuffer) {
		this.conn.socket.send(frame);
	}

	/**
	 * Sends a hand-written call batch as frame `c<id>` (messages as values, or as lines exactly as
	 * given) and resolves with the room's answer to it: the whole `r<id>` or `x<id>` frame.
	 */
	batch(id: number, messages: ReadonlyArray<unknown>): Promise<string> {
		const socket = this.conn.socket;
		return new Promise((resolve) => {
			const onMessage = (e: MessageEvent) => {
				const frame = String(e.data);
				if (frame.startsWith(`r${id}\n`) || frame.startsWith(`x${id}\n`)) {
					socket.removeEventListener('message', onMessage);
					resolve(frame);
				}
			};
			socket.addEventListener('message', onMessage);
			this.raw(`c${id}\n${messages.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join('\n')}`);
		});
	}

	close() {
		this.conn.close(1000, 'bye');
		return this.closed;
	}
}

/** Joins clients one at a time: locally, overlapping upgrades keep a room from being evicted. */
export async function joinInTurn(worker: RoomWorker, room: string, metas: TestMeta[]): Promise<Probe[]> {
	const probes: Probe[] = [];
	for (const meta of metas) probes.push(await Probe.join(worker, room, meta));
	return probes;
}
