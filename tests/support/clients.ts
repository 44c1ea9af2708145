/**
 * Helpers for `WebsocketClient` tests: awaiting the next event instead of sleeping.
 */
import type { WebsocketClient } from '../../client/websocket-client.svelte.js';

/** The next `name` event of `client`, or a rejection after `timeoutMs` of real time. */
export function nextEvent<T = any>(client: WebsocketClient<any, any, any>, name: string, timeoutMs = 5_000): Promise<T> {
	return new Promise<T>((resolve, reject) => {
		const timer = setTimeout(() => {
			off();
			reject(new Error(`no "${name}" event within ${timeoutMs} ms`));
		}, timeoutMs);
		const off = (client as WebsocketClient<unknown, Record<string, unknown>>).once(name, (data: unknown) => {
			clearTimeout(timer);
			resolve(data as T);
		});
	});
}

/** Records every event `client` emits, by name. */
export function recordEvents(client: WebsocketClient<any, any, any>): Array<{ event: string; data: any }> {
	const seen: Array<{ event: string; data: any }> = [];
	(client as WebsocketClient<unknown, Record<string, unknown>>).on('*', (e) => seen.push(e as { event: string; data: any }));
	return seen;
}

/** Resolves once `predicate()` holds, re-checking on every event the client emits (no polling). */
export function whenTrue(client: WebsocketClient<any, any, any>, predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
	if (predicate()) return Promise.resolve();
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => (off(), reject(new Error(`timed out waiting for ${what}`))), timeoutMs);
		const off = client.on('*', () => {
			if (!predicate()) return;
			clearTimeout(timer);
			off();
			resolve();
		});
	});
}

/** A random source for jitter that always lands in the middle: delays are exactly 1 s, 2 s, 4 s… */
export const noJitter = () => 0.5;

/** Connects each client to `room`, one after the other, so the room hears them join in that order. */
export async function joinInOrder<const C extends ReadonlyArray<{ connect(room: string): Promise<unknown> }>>(room: string, ...clients: C): Promise<C> {
	for (const c of clients) await c.connect(room);
	return clients;
}
