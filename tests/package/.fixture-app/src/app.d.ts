// See https://svelte.dev/docs/kit/types#app.d.ts
import type { ChatRoom } from '$lib/server/room';

declare global {
	namespace App {
		interface Platform {
			env: {
				/** The rooms (wrangler.jsonc `durable_objects`). */
				WS: DurableObjectNamespace<ChatRoom>;
			};
			ctx: ExecutionContext;
		}
	}
}

export {};
