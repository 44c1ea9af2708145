/**
 * A Worker whose room turns permessage-deflate on (`compression: true`), for the compression test;
 * the main test Worker's room keeps the default (off).
 */
import { WebsocketServer } from '../../do/index.js';
import { handOff } from '../../kit/handoff.js';

interface Env {
	ROOM: DurableObjectNamespace<TestRoom>;
}

export class TestRoom extends WebsocketServer<{ user_id: string }, Record<string, unknown>, Env> {
	static override options = { compression: true };
}

export default {
	fetch(request: Request, env: Env): Promise<Response> {
		const room = new URL(request.url).pathname.split('/')[2] ?? 'room';
		return handOff(env.ROOM, request, { room, meta: { user_id: 'ann' } });
	},
};
