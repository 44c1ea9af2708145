// README, "Outside SvelteKit": a plain Worker.
import type { ChatRoom } from './room';

interface Env {
	WS: DurableObjectNamespace<ChatRoom>;
}
declare function userFromCookie(request: Request): Promise<{ id: string; name: string; rooms: string[] } | undefined>;

import { handleUpgrade, refuse } from '@delightstack/websocket/server';
export { ChatRoom } from './room';

const sockets = {
	async authorize(request: Request, room: string) {
		const user = await userFromCookie(request);        // your auth
		if (!user) return;                                 // 401: the client stops (close code 4401)
		if (!user.rooms.includes(room)) refuse(403, 'Not your room');
		return { meta: { user_id: user.id, user_name: user.name } };
	},
	allowedOrigins: ['https://admin.example.com'],       // besides the Worker's own origin
	path: '/api/websocket',                              // the default
};

export default {
	async fetch(request: Request, env: Env): Promise<Response> {
		return (await handleUpgrade(request, env.WS, sockets)) ?? new Response('Not found', { status: 404 });
	},
};
