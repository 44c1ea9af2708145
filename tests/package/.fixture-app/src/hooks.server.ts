import type { Handle } from '@sveltejs/kit';
import { sequence } from '@sveltejs/kit/hooks';
import { createWebsocketHandle } from '@delightstack/websocket/server';
import type { ChatMeta } from '$lib/server/room';

/** Stands in for your auth: every browser gets a guest name in a cookie. */
const guest: Handle = ({ event, resolve }) => {
	if (!event.cookies.get('guest')) {
		const name = `guest-${crypto.randomUUID().slice(0, 8)}`;
		event.cookies.set('guest', name, { path: '/', httpOnly: true, secure: event.url.protocol === 'https:' });
	}
	return resolve(event);
};

export const handle = sequence(
	guest,
	createWebsocketHandle<ChatMeta>({
		getServer: (event) => event.platform?.env.WS,
		// Who may join which room, and what the others see of them.
		authorize(event, room) {
			const name = event.cookies.get('guest');
			if (!name) return; // 401: the client stops and reports it
			return { meta: { user_id: name, user_name: name } };
		},
	}),
);
