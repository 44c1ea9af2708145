// See https://svelte.dev/docs/kit/types#app.d.ts
import type { DemoLocals } from '$lib/server/session';
import type { ChatRoom } from '$lib/server/room';

declare global {
	namespace App {
		/** Filled by `authHandle` in hooks.server.ts, in the shape `@delightstack/auth` uses. */
		interface Locals extends DemoLocals {}
		interface Platform {
			env: {
				/** The chat rooms: one Durable Object per organisation. */
				WS: DurableObjectNamespace<ChatRoom>;
				/** Signs the session cookie. */
				SESSION_SECRET: string;
			};
			ctx: ExecutionContext;
		}
	}
}

export {};
