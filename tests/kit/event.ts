/**
 * A `RequestEvent` as SvelteKit builds it, reduced to what a handle reads: the real `Request`, its
 * URL, `locals` and `platform`. Shared by the unit tests (Bun) and the test Worker (workerd).
 */
import type { Handle, RequestEvent } from '@sveltejs/kit';

export interface EventParts {
	locals?: Record<string, unknown>;
	platform?: Record<string, unknown>;
}

export function requestEvent(request: Request, parts: EventParts = {}): RequestEvent {
	const event = {
		request,
		url: new URL(request.url),
		locals: parts.locals ?? {},
		platform: parts.platform,
		params: {},
		route: { id: null },
		isDataRequest: false,
		isSubRequest: false,
		isRemoteRequest: false,
		getClientAddress: () => '127.0.0.1',
		setHeaders: () => {},
		fetch: (...args: Parameters<typeof fetch>) => fetch(...args),
	};
	return event as unknown as RequestEvent;
}

/** Runs `handle` the way SvelteKit would, with `resolve` answering 200 "resolved by the app". */
export function runHandle(handle: Handle, event: RequestEvent, resolve = resolvedByApp): Promise<Response> {
	return Promise.resolve(handle({ event, resolve }));
}

export const resolvedByApp = async (_event: RequestEvent): Promise<Response> => new Response('resolved by the app');
