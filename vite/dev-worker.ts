/**
 * `vite dev` only: the front of the Worker the Vite plugin runs the app's rooms in (local workerd).
 * The plugin bundles it with the app's room classes and sends it only sockets the app's own handle
 * already authorized, with the handoff the handle decided; this Worker hands each to its room,
 * exactly as the handle does in production (`handOff`). A refusal the handle decided (401/403/426)
 * is delivered here as close code 4401/4403/4426, since only workerd can accept a socket just to
 * close it.
 */
import { handOff, type RoomNamespace } from '../kit/handoff.js';
import { socketRefusal, refusal, type RefusalBody } from '../kit/refusal.js';
import { HANDOFF_HEADER, type Handoff } from '../rpc/protocol.js';
import { DEV_BINDING_HEADER, DEV_REFUSAL_HEADER, DEV_SECRET_BINDING, DEV_SECRET_HEADER } from './dev-headers.js';

type DevEnv = Record<string, unknown>;

export default {
	async fetch(request: Request, env: DevEnv): Promise<Response> {
		if (request.headers.get(DEV_SECRET_HEADER) !== env[DEV_SECRET_BINDING]) {
			return refusal(403, 'forbidden', 'Only the Vite dev server opens sockets here');
		}
		const refused = request.headers.get(DEV_REFUSAL_HEADER);
		if (refused !== null) {
			const body = JSON.parse(refused) as RefusalBody;
			return socketRefusal(body.status, body.code, body.message);
		}
		const binding = request.headers.get(DEV_BINDING_HEADER) ?? '';
		const rooms = env[binding] as RoomNamespace | undefined;
		const handoff = request.headers.get(HANDOFF_HEADER);
		if (!rooms || handoff === null) return refusal(503, 'server_unavailable', `No rooms bound as "${binding}" in the dev rooms Worker`);

		const headers = new Headers(request.headers);
		for (const name of [DEV_SECRET_HEADER, DEV_BINDING_HEADER]) headers.delete(name);
		return handOff(rooms, new Request(request, { headers }), JSON.parse(handoff) as Handoff);
	},
};
