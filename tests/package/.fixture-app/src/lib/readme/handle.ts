// README, "The handle".
import type { Handle } from '@sveltejs/kit';

declare const authHandle: Handle;

// src/hooks.server.ts
import { sequence } from '@sveltejs/kit/hooks';
import { createWebsocketHandle } from '@delightstack/websocket/server';

export const handle = sequence(
	authHandle, // fills locals (session, user, org_id) the way @delightstack/auth does
	createWebsocketHandle({ getServer: (event) => event.platform?.env.WS }),
);
