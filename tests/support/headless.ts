/**
 * Headless clients of the test room (tests/worker) for a test file: each one built by `client()` is
 * destroyed after its test.
 */
import { afterEach } from 'bun:test';
import { RoomClient, type HeadlessClientOptions } from '../../client/headless.js';
import type { TestApi, TestEvents, TestMeta } from '../worker/index.js';
import { roomWorkerPerFile, type RoomWorker } from './workerd.js';

export type TestClient = RoomClient<TestMeta, TestEvents, TestApi>;

export function headlessClients(rooms: { readonly worker: RoomWorker }): (meta: TestMeta, options?: Partial<HeadlessClientOptions<TestApi>>) => TestClient {
	const made: TestClient[] = [];
	afterEach(() => {
		for (const c of made.splice(0)) c.destroy();
	});
	return (meta, options = {}) => {
		const c = new RoomClient<TestMeta, TestEvents, TestApi>({ url: (room) => rooms.worker.connectUrl(room, meta), random: () => 0.5, ...options });
		made.push(c);
		return c;
	};
}

/** A test file's room worker (`roomWorkerPerFile`) with its headless clients (`client`). */
export function headlessRoomFile(prefix: string) {
	const rooms = roomWorkerPerFile(prefix);
	return Object.assign(rooms, { client: headlessClients(rooms) });
}
