/** The few Chrome DevTools Protocol calls the profiler needs, over workerd's inspector socket. */
export class Cdp {
	readonly #ws: WebSocket;
	readonly #pending = new Map<number, { resolve(v: any): void; reject(e: Error): void }>();
	#nextId = 1;
	readonly opened: Promise<void>;

	constructor(url: string) {
		this.#ws = new WebSocket(url);
		this.opened = new Promise((resolve, reject) => {
			this.#ws.addEventListener('open', () => resolve(), { once: true });
			this.#ws.addEventListener('error', () => reject(new Error(`cannot reach the inspector at ${url}`)), { once: true });
		});
		this.#ws.addEventListener('message', (e) => {
			const message = JSON.parse(String(e.data)) as { id?: number; result?: unknown; error?: { message: string } };
			const waiter = message.id === undefined ? undefined : this.#pending.get(message.id);
			if (!waiter) return; // events: not needed
			this.#pending.delete(message.id!);
			if (message.error) waiter.reject(new Error(message.error.message));
			else waiter.resolve(message.result);
		});
	}

	send<T = unknown>(method: string, params: object = {}, timeoutMs = 30_000): Promise<T> {
		const id = this.#nextId++;
		return new Promise<T>((resolve, reject) => {
			const timer = setTimeout(() => (this.#pending.delete(id), reject(new Error(`${method}: no answer in ${timeoutMs} ms`))), timeoutMs);
			this.#pending.set(id, { resolve: (v) => (clearTimeout(timer), resolve(v)), reject: (e) => (clearTimeout(timer), reject(e)) });
			this.#ws.send(JSON.stringify({ id, method, params }));
		});
	}

	close(): void {
		this.#ws.close();
	}
}
