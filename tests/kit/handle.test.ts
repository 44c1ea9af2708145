/**
 * `createWebsocketHandle` over real `Request` objects: every refusal and its JSON body, the Origin
 * check, room validation, the default (auth locals) and custom authorization, and what reaches the
 * room — recorded by a namespace that keeps every request it is given.
 */
import { error, type Handle, type RequestEvent } from '@sveltejs/kit';
import { afterEach, beforeEach, describe, expect, spyOn, test } from 'bun:test';
import {
	authorizeFromAuthLocals,
	createWebsocketHandle,
	refuse,
	type AuthLocalsLike,
	type RefusalBody,
	type RoomNamespace,
	type WebsocketHandleOptions,
} from '../../kit/index.js';
import { HANDOFF_HEADER, type Handoff } from '../../rpc/protocol.js';
import type { AuthSessionMeta } from '../../rpc/types.js';
import { WIRE_PARAM, WIRE_VERSION } from '../../rpc/wire-version.js';
import { DEV_SOCKET_REFUSAL_HEADER, DEV_AUTHORIZE_HEADER, openDevBridge, type DevAuthorization } from '../../kit/dev-bridge.js';
import { requestEvent } from './event.js';
import { statingWire } from './sockets.js';

const APP = 'https://app.example.com';

/** A namespace that records what the handle sends to rooms and answers like a room would not. */
class RecordingNamespace implements RoomNamespace {
	readonly names: string[] = [];
	readonly requests: Request[] = [];
	fail = false;

	idFromName(name: string): DurableObjectId {
		this.names.push(name);
		return { name, toString: () => `id:${name}`, equals: () => false } as unknown as DurableObjectId;
	}

	get(_id: DurableObjectId) {
		return {
			fetch: async (request: Request) => {
				if (this.fail) throw new Error('Durable Object overloaded');
				this.requests.push(request);
				return new Response('from the room', { status: 200 });
			},
		};
	}

	/** The handoff the room received (one request, one header value). */
	handoff<Meta = AuthSessionMeta>(): Handoff<Meta> {
		expect(this.requests).toHaveLength(1);
		return JSON.parse(this.requests[0]!.headers.get(HANDOFF_HEADER)!) as Handoff<Meta>;
	}
}

interface Call {
	handle: Handle;
	rooms: RecordingNamespace;
	resolved: RequestEvent[];
	getServerCalls: number;
}

let rooms: RecordingNamespace;
let consoleError: ReturnType<typeof spyOn>;

beforeEach(() => {
	// The handle logs unexpected failures; keep them out of the test output but let tests assert on them.
	consoleError = spyOn(console, 'error').mockImplementation(() => {});
});
afterEach(() => consoleError.mockRestore());

/**
 * Ada as `@delightstack/auth` fills `locals.user`: with the login and session identifiers that the
 * default authorization must keep out of presence.
 */
const ada = { id: 'u-ada', name: 'Ada', user_auth_id: 'auth-ada', user_session_id: 'sess-1', email: 'ada@example.com' };

/** Signed in as Ada, member of org-a (permission 3) and org-b (permission 1), with org-a current. */
function adaLocals(overrides: Partial<AuthLocalsLike> = {}): AuthLocalsLike {
	return {
		session: { org: { 'org-a': { p: 3 }, 'org-b': { p: 1 } } },
		user: ada,
		org_id: 'org-a',
		org: { id: 'org-a', permissions: 3 },
		...overrides,
	};
}

function makeHandle<Meta extends object = AuthSessionMeta>(options: Partial<WebsocketHandleOptions<Meta>> = {}): Call {
	// Each handle gets its own namespace, so one case's requests never leak into another's assertions.
	const target = (rooms = new RecordingNamespace());
	const call: Call = { rooms: target, resolved: [], getServerCalls: 0, handle: undefined! };
	call.handle = createWebsocketHandle<Meta>({
		getServer: () => {
			call.getServerCalls++;
			return target;
		},
		...options,
	} as WebsocketHandleOptions<Meta>);
	return call;
}

function upgrade(url: string, headers: Record<string, string> = {}, method = 'GET'): Request {
	return new Request(new URL(statingWire(url), APP), {
		method,
		headers: {
			upgrade: 'websocket',
			connection: 'Upgrade',
			'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
			'sec-websocket-version': '13',
			origin: APP,
			...headers,
		},
	});
}

async function run(call: Call, request: Request, locals: object = adaLocals()): Promise<Response> {
	const event = requestEvent(request, { locals: locals as Record<string, unknown> });
	return call.handle({
		event,
		resolve: async (e) => {
			call.resolved.push(e);
			return new Response('resolved by the app');
		},
	});
}

/** A refusal: the status, a JSON body with matching status/code/message, never cached, nothing sent to a room. */
async function expectRefusal(call: Call, response: Response, status: number, code: string): Promise<RefusalBody> {
	expect(response.status).toBe(status);
	expect(response.headers.get('content-type')).toStartWith('application/json');
	expect(response.headers.get('cache-control')).toBe('no-store');
	const body = (await response.json()) as RefusalBody;
	expect(body.status).toBe(status);
	expect(body.code).toBe(code);
	expect(body.message).toBeString();
	expect(body.message.length).toBeGreaterThan(0);
	expect(call.rooms.requests).toHaveLength(0);
	expect(call.resolved).toHaveLength(0);
	return body;
}

async function expectForwarded(call: Call, response: Response): Promise<void> {
	expect(await response.text()).toBe('from the room');
	expect(call.rooms.requests).toHaveLength(1);
	expect(call.resolved).toHaveLength(0);
}

describe('requests that are not for the handle', () => {
	test('other paths go to resolve untouched, upgrades included', async () => {
		const call = makeHandle();
		for (const request of [
			new Request(`${APP}/`),
			upgrade('/api/websocket/extra?room=org-a'),
			upgrade('/api/websockets?room=org-a'),
			upgrade('/other?room=org-a'),
		]) {
			const response = await run(call, request);
			expect(await response.text()).toBe('resolved by the app');
		}
		expect(call.resolved).toHaveLength(4);
		expect(call.resolved[1]!.request).toBeInstanceOf(Request);
		expect(call.getServerCalls).toBe(0);
		expect(rooms.requests).toHaveLength(0);
	});

	test('a custom path moves the endpoint', async () => {
		const moved = makeHandle({ path: '/ws' });
		expect(await (await run(moved, upgrade('/api/websocket?room=org-a'))).text()).toBe('resolved by the app');
		expect(moved.rooms.requests).toHaveLength(0);
		const call = makeHandle({ path: '/ws' });
		await expectForwarded(call, await run(call, upgrade('/ws?room=org-a')));
	});

	test('a path without a leading slash is a configuration error', () => {
		expect(() => createWebsocketHandle({ path: 'api/websocket', getServer: () => rooms })).toThrow(/must start with "\/"/);
		expect(() => createWebsocketHandle({ maxRoomLength: 0, getServer: () => rooms })).toThrow(/maxRoomLength/);
	});
});

describe('426 for requests to the path that are not upgrades', () => {
	test('a plain GET', async () => {
		const call = makeHandle();
		const response = await run(call, new Request(`${APP}/api/websocket?room=org-a`));
		await expectRefusal(call, response, 426, 'upgrade_required');
		expect(response.headers.get('upgrade')).toBe('websocket');
	});

	test('a POST, even with Upgrade: websocket', async () => {
		const call = makeHandle();
		await expectRefusal(call, await run(call, upgrade('/api/websocket?room=org-a', {}, 'POST')), 426, 'upgrade_required');
	});

	test('an upgrade to something else', async () => {
		const call = makeHandle();
		await expectRefusal(call, await run(call, upgrade('/api/websocket?room=org-a', { upgrade: 'h2c' })), 426, 'upgrade_required');
	});

	test('the Upgrade token is matched case-insensitively, also in a list', async () => {
		for (const value of ['WebSocket', 'h2c, websocket']) {
			const call = makeHandle();
			await expectForwarded(call, await run(call, upgrade('/api/websocket?room=org-a', { upgrade: value })));
		}
	});
});

describe('Origin', () => {
	test('the app’s own origin is allowed', async () => {
		const call = makeHandle();
		await expectForwarded(call, await run(call, upgrade('/api/websocket?room=org-a')));
	});

	test('a missing Origin is refused', async () => {
		const call = makeHandle();
		const request = upgrade('/api/websocket?room=org-a');
		const headers = new Headers(request.headers);
		headers.delete('origin');
		const body = await expectRefusal(call, await run(call, new Request(request, { headers })), 403, 'origin_not_allowed');
		expect(body.message).toContain('Origin');
	});

	test('a foreign origin, a look-alike and the opaque "null" origin are refused', async () => {
		for (const origin of ['https://evil.example', 'https://app.example.com.evil.example', 'http://app.example.com', 'https://app.example.com:8443', 'null']) {
			const call = makeHandle();
			const body = await expectRefusal(call, await run(call, upgrade('/api/websocket?room=org-a', { origin })), 403, 'origin_not_allowed');
			expect(body.message).toContain(origin);
		}
	});

	test('the Origin check runs before authorization and before any room is looked up', async () => {
		let authorized = 0;
		const call = makeHandle({
			authorize: () => {
				authorized++;
				return { meta: {} };
			},
		});
		await expectRefusal(call, await run(call, upgrade('/api/websocket?room=org-a', { origin: 'https://evil.example' })), 403, 'origin_not_allowed');
		expect(authorized).toBe(0);
		expect(call.getServerCalls).toBe(0);
	});

	test('allowedOrigins lists more origins (normalized) and nothing else', async () => {
		const allowedOrigins = ['https://Admin.Example.com/', 'http://localhost:5173'];
		for (const origin of ['https://admin.example.com', 'http://localhost:5173', APP]) {
			const call = makeHandle({ allowedOrigins });
			await expectForwarded(call, await run(call, upgrade('/api/websocket?room=org-a', { origin })));
		}
		const call = makeHandle({ allowedOrigins });
		await expectRefusal(call, await run(call, upgrade('/api/websocket?room=org-a', { origin: 'http://localhost:5174' })), 403, 'origin_not_allowed');
	});

	test('allowedOrigins entries that are not origins fail at creation', () => {
		for (const bad of ['admin.example.com', 'file:///etc/passwd', '']) {
			expect(() => createWebsocketHandle({ allowedOrigins: [bad], getServer: () => rooms })).toThrow(/not an origin/);
		}
	});

	test('an allowedOrigins function decides, and sees a missing Origin as null', async () => {
		const seen: (string | null)[] = [];
		const allowedOrigins = (origin: string | null) => {
			seen.push(origin);
			return origin === null || origin.endsWith('.trusted.example');
		};
		const noOrigin = new Headers(upgrade('/api/websocket?room=org-a').headers);
		noOrigin.delete('origin');

		let call = makeHandle({ allowedOrigins });
		await expectForwarded(call, await run(call, new Request(`${APP}${statingWire('/api/websocket?room=org-a')}`, { headers: noOrigin })));
		call = makeHandle({ allowedOrigins });
		await expectForwarded(call, await run(call, upgrade('/api/websocket?room=org-a', { origin: 'https://x.trusted.example' })));
		call = makeHandle({ allowedOrigins });
		await expectRefusal(call, await run(call, upgrade('/api/websocket?room=org-a', { origin: 'https://evil.example' })), 403, 'origin_not_allowed');
		// The app's own origin never needs the function's consent.
		call = makeHandle({ allowedOrigins });
		await expectForwarded(call, await run(call, upgrade('/api/websocket?room=org-a')));
		expect(seen).toEqual([null, 'https://x.trusted.example', 'https://evil.example']);
	});
});

describe('400 for a room that is not well-formed', () => {
	const cases: [string, string, RegExp][] = [
		['missing', '/api/websocket', /Missing the "room"/],
		['empty', '/api/websocket?room=', /empty/],
		['given twice', '/api/websocket?room=org-a&room=org-b', /2 times/],
		['too long', `/api/websocket?room=${'x'.repeat(257)}`, /257 characters.*at most 256/],
		['with a control character', '/api/websocket?room=org%0Aa', /control characters/],
		['with DEL', '/api/websocket?room=org%7Fa', /control characters/],
		['with a C1 control character', '/api/websocket?room=org%C2%85a', /control characters/],
	];
	for (const [name, url, message] of cases) {
		test(name, async () => {
			let authorized = 0;
			const call = makeHandle({ authorize: () => (authorized++, { meta: {} }) });
			const body = await expectRefusal(call, await run(call, upgrade(url)), 400, 'bad_room');
			expect(body.message).toMatch(message);
			expect(authorized).toBe(0);
		});
	}

	test('maxRoomLength sets the bound, inclusive', async () => {
		const call = makeHandle({ maxRoomLength: 5, authorize: () => ({ meta: {} }) });
		await expectForwarded(call, await run(call, upgrade('/api/websocket?room=abcde')));
		const refused = makeHandle({ maxRoomLength: 5, authorize: () => ({ meta: {} }) });
		await expectRefusal(refused, await run(refused, upgrade('/api/websocket?room=abcdef')), 400, 'bad_room');
	});

	test('any other name is passed through exactly, decoded', async () => {
		const call = makeHandle({ authorize: (_e, room) => ({ meta: { room } }) });
		await expectForwarded(call, await run(call, upgrade(`/api/websocket?room=${encodeURIComponent('team/ünïcode 🚀&x=1')}`)));
		expect(rooms.names).toEqual(['team/ünïcode 🚀&x=1']);
		expect(rooms.handoff<{ room: string }>()).toEqual({ room: 'team/ünïcode 🚀&x=1', meta: { room: 'team/ünïcode 🚀&x=1' } });
	});
});

describe('default authorization: @delightstack/auth locals', () => {
	test('a member joins their organisation’s room with {user_id, user_name, permission} and nothing more', async () => {
		const call = makeHandle();
		await expectForwarded(call, await run(call, upgrade('/api/websocket?room=org-a')));
		expect(rooms.names).toEqual(['org-a']);
		const handoff = rooms.handoff();
		expect(handoff).toEqual({ room: 'org-a', meta: { user_id: 'u-ada', user_name: 'Ada', permission: 3 } });
		// Exactly these keys: the login and session identifiers in locals.user never reach presence.
		expect(Object.keys(handoff.meta).sort()).toEqual(['permission', 'user_id', 'user_name']);
		expect(JSON.stringify(handoff)).not.toMatch(/auth-ada|sess-1|ada@example/);
	});

	test('a user without a name joins with user_id and permission only', async () => {
		const call = makeHandle();
		await expectForwarded(call, await run(call, upgrade('/api/websocket?room=org-a'), adaLocals({ user: { id: 'u-anon' } })));
		expect(rooms.handoff().meta).toEqual({ user_id: 'u-anon', permission: 3 });
	});

	test('an app that wants more in meta says so in its own authorize', async () => {
		const call = makeHandle<AuthSessionMeta & { user_session_id: string }>({
			authorize: (event, room) => {
				const allowed = authorizeFromAuthLocals(event, room);
				return allowed && { meta: { ...allowed.meta, user_session_id: (event.locals as { user: typeof ada }).user.user_session_id } };
			},
		});
		await expectForwarded(call, await run(call, upgrade('/api/websocket?room=org-a')));
		expect(rooms.handoff<AuthSessionMeta & { user_session_id: string }>().meta).toEqual({
			user_id: 'u-ada',
			user_name: 'Ada',
			permission: 3,
			user_session_id: 'sess-1',
		});
	});

	test('any organisation in the session token is the user’s, with that organisation’s permission', async () => {
		const call = makeHandle();
		await expectForwarded(call, await run(call, upgrade('/api/websocket?room=org-b')));
		expect(rooms.handoff().meta.permission).toBe(1);
	});

	test('without a session token’s org list, the current organisation (locals.org_id + locals.org) is the user’s', async () => {
		const call = makeHandle();
		await expectForwarded(
			call,
			await run(call, upgrade('/api/websocket?room=org-c'), adaLocals({ session: {}, org_id: 'org-c', org: { id: 'org-c', permissions: 7 } })),
		);
		expect(rooms.handoff().meta.permission).toBe(7);
	});

	test('401 without a signed-in user', async () => {
		for (const locals of [{}, { session: null, user: null }, adaLocals({ user: null }), adaLocals({ session: null }), adaLocals({ user: { id: '' } })]) {
			const call = makeHandle();
			const body = await expectRefusal(call, await run(call, upgrade('/api/websocket?room=org-a'), locals), 401, 'unauthorized');
			expect(body.message).toMatch(/Sign in/);
		}
	});

	test('403 for a room that is not one of the user’s organisations', async () => {
		const call = makeHandle();
		const body = await expectRefusal(call, await run(call, upgrade('/api/websocket?room=org-z')), 403, 'forbidden');
		expect(body.message).toContain('org-z');
	});

	test('403 when org_id names the room but the auth handle found no membership (locals.org null)', async () => {
		const call = makeHandle();
		await expectRefusal(call, await run(call, upgrade('/api/websocket?room=org-z'), adaLocals({ session: {}, org_id: 'org-z', org: null })), 403, 'forbidden');
	});

	test('inherited keys are not memberships', async () => {
		const call = makeHandle();
		await expectRefusal(call, await run(call, upgrade('/api/websocket?room=constructor')), 403, 'forbidden');
	});
});

describe('custom authorize', () => {
	test('receives the event and the room, and its meta is what the room gets', async () => {
		const seen: [string, string][] = [];
		const call = makeHandle<{ user_id: string; role: string }>({
			authorize: (event, room) => {
				seen.push([event.url.pathname, room]);
				return { meta: { user_id: 'u-1', role: 'editor' } };
			},
		});
		await expectForwarded(call, await run(call, upgrade('/api/websocket?room=doc-9'), {}));
		expect(seen).toEqual([['/api/websocket', 'doc-9']]);
		expect(rooms.handoff<{ user_id: string; role: string }>()).toEqual({ room: 'doc-9', meta: { user_id: 'u-1', role: 'editor' } });
	});

	test('returning nothing refuses with 401', async () => {
		for (const result of [undefined, null]) {
			const call = makeHandle({ authorize: () => result });
			await expectRefusal(call, await run(call, upgrade('/api/websocket?room=doc-9')), 401, 'unauthorized');
			expect(call.getServerCalls).toBe(0);
		}
	});

	test('async: nothing reaches the room until it settles', async () => {
		let allow!: (value: { meta: { user_id: string } }) => void;
		let started!: () => void;
		const authorizing = new Promise<void>((resolve) => (started = resolve));
		const call = makeHandle<{ user_id: string }>({
			authorize: () => {
				started();
				return new Promise((resolve) => (allow = resolve));
			},
		});
		const pending = run(call, upgrade('/api/websocket?room=doc-9'));
		await authorizing;
		expect(rooms.requests).toHaveLength(0);
		expect(call.getServerCalls).toBe(0);
		allow({ meta: { user_id: 'late' } });
		await expectForwarded(call, await pending);
		expect(rooms.handoff<{ user_id: string }>().meta).toEqual({ user_id: 'late' });
	});

	test('async returning nothing refuses with 401', async () => {
		const call = makeHandle({ authorize: async () => undefined });
		await expectRefusal(call, await run(call, upgrade('/api/websocket?room=doc-9')), 401, 'unauthorized');
	});

	test('error(403, message) refuses with 403 and that message, sync or async', async () => {
		for (const authorize of [
			() => error(403, 'Not your room'),
			async () => {
				await Promise.resolve();
				error(403, 'Not your room');
			},
		]) {
			const call = makeHandle({ authorize });
			const body = await expectRefusal(call, await run(call, upgrade('/api/websocket?room=doc-9')), 403, 'forbidden');
			expect(body.message).toBe('Not your room');
		}
	});

	test('refuse(status, message, code) works like error(), without SvelteKit', async () => {
		const call = makeHandle({ authorize: () => refuse(403, 'Not your room') });
		expect((await expectRefusal(call, await run(call, upgrade('/api/websocket?room=doc-9')), 403, 'forbidden')).message).toBe('Not your room');
		const coded = makeHandle({ authorize: async () => refuse(409, 'Room is full', 'room_full') });
		expect((await expectRefusal(coded, await run(coded, upgrade('/api/websocket?room=doc-9')), 409, 'room_full')).message).toBe('Room is full');
		expect(() => refuse(200, 'fine')).toThrow(RangeError);
	});

	test('a thrown object that only looks a little like an HTTP error is a 500, not a refusal', async () => {
		for (const thrown of [{ status: 403 }, { status: 200, body: { message: 'ok' } }, { body: { message: 'no status' } }]) {
			const call = makeHandle({
				authorize: () => {
					throw thrown;
				},
			});
			await expectRefusal(call, await run(call, upgrade('/api/websocket?room=doc-9')), 500, 'internal_error');
		}
	});

	test('error() with another status and a body carrying a code keeps both', async () => {
		const call = makeHandle({ authorize: () => error(429, { message: 'Too many sockets', code: 'too_many_sockets' } as App.Error) });
		const body = await expectRefusal(call, await run(call, upgrade('/api/websocket?room=doc-9')), 429, 'too_many_sockets');
		expect(body.message).toBe('Too many sockets');
	});

	test('any other throw is a logged 500 that tells the client nothing internal', async () => {
		const call = makeHandle({
			authorize: async () => {
				throw new Error('database password is hunter2');
			},
		});
		const body = await expectRefusal(call, await run(call, upgrade('/api/websocket?room=doc-9')), 500, 'internal_error');
		expect(body.message).not.toContain('hunter2');
		expect(consoleError).toHaveBeenCalled();
	});

	test('meta that is not a plain object is a logged 500, never sent to the room', async () => {
		for (const meta of ['u-1', 42, ['u-1'], null, new Date()]) {
			const call = makeHandle({ authorize: () => ({ meta }) as never });
			await expectRefusal(call, await run(call, upgrade('/api/websocket?room=doc-9')), 500, 'internal_error');
		}
		expect(consoleError).toHaveBeenCalledTimes(5);
	});
});

describe('reaching the room', () => {
	test('getServer is asked only after authorization, and its absence is a 503', async () => {
		const call = makeHandle({ getServer: () => undefined });
		await expectRefusal(call, await run(call, upgrade('/api/websocket?room=org-a')), 503, 'server_unavailable');
	});

	test('getServer throwing (no platform, say) is a logged 500', async () => {
		const call = makeHandle({
			getServer: (event) => (event.platform as unknown as { env: { WS: RoomNamespace } }).env.WS,
		});
		await expectRefusal(call, await run(call, upgrade('/api/websocket?room=org-a')), 500, 'internal_error');
		expect(consoleError).toHaveBeenCalled();
	});

	test('a room that cannot be reached is a logged 502', async () => {
		const call = makeHandle();
		call.rooms.fail = true;
		await expectRefusal(call, await run(call, upgrade('/api/websocket?room=org-a')), 502, 'room_unavailable');
		expect(consoleError).toHaveBeenCalled();
	});

	test('the room’s own answer is returned as is', async () => {
		const call = makeHandle();
		const response = await run(call, upgrade('/api/websocket?room=org-a'));
		expect(response.status).toBe(200);
		expect(await response.text()).toBe('from the room');
	});
});

describe('the handoff header belongs to the handle', () => {
	test('a client-supplied copy is replaced, whatever its case; the rest of the upgrade is intact', async () => {
		const forged = JSON.stringify({ room: 'org-a', meta: { user_id: 'u-admin', permission: 0xffff } });
		const call = makeHandle();
		const request = upgrade('/api/websocket?room=org-a', {
			[HANDOFF_HEADER.toUpperCase()]: forged,
			cookie: 'session=abc',
			'sec-websocket-protocol': 'chat',
		});
		expect(request.headers.get(HANDOFF_HEADER)).toBe(forged);
		await expectForwarded(call, await run(call, request));

		const received = rooms.requests[0]!;
		const copies = [...received.headers].filter(([name]) => name.toLowerCase() === HANDOFF_HEADER);
		expect(copies).toHaveLength(1);
		expect(JSON.parse(copies[0]![1])).toEqual({ room: 'org-a', meta: { user_id: 'u-ada', user_name: 'Ada', permission: 3 } });
		expect(received.url).toBe(`${APP}${statingWire('/api/websocket?room=org-a')}`);
		expect(received.method).toBe('GET');
		for (const name of ['upgrade', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol', 'origin', 'cookie']) {
			expect(received.headers.get(name)).toBe(request.headers.get(name));
		}
	});

	test('a forged header on a refused upgrade goes nowhere', async () => {
		const call = makeHandle();
		const forged = JSON.stringify({ room: 'org-z', meta: { user_id: 'u-admin' } });
		await expectRefusal(call, await run(call, upgrade('/api/websocket?room=org-z', { [HANDOFF_HEADER]: forged })), 403, 'forbidden');
		await expectRefusal(call, await run(call, upgrade('/api/websocket?room=org-a', { [HANDOFF_HEADER]: forged }), {}), 401, 'unauthorized');
	});

	test('non-ASCII metadata travels as ASCII and arrives unchanged', async () => {
		const name = 'Zoë 李雷 🚀 "quoted" \\ back \u007f';
		const call = makeHandle({ authorize: () => ({ meta: { user_id: 'u-z', user_name: name } }) });
		await expectForwarded(call, await run(call, upgrade(`/api/websocket?room=${encodeURIComponent('salle-é')}`)));
		const raw = rooms.requests[0]!.headers.get(HANDOFF_HEADER)!;
		expect(raw).toMatch(/^[\x20-\x7e]+$/);
		expect(JSON.parse(raw)).toEqual({ room: 'salle-é', meta: { user_id: 'u-z', user_name: name } });
	});
});

describe('vite dev: the dev server asks the handle who a socket is', () => {
	const BRIDGE = Symbol.for('@delightstack/websocket/dev-bridge');
	afterEach(() => delete (globalThis as Record<symbol, unknown>)[BRIDGE]);

	/** The dev server's question: the upgrade's headers as a plain GET, with the secret. */
	function question(url: string, secret: string, headers: Record<string, string> = {}): Request {
		return new Request(new URL(statingWire(url), APP), { headers: { origin: APP, [DEV_AUTHORIZE_HEADER]: secret, ...headers } });
	}

	test('with the registered secret: every check runs, and the answer is the handoff, not a socket', async () => {
		const bridge = openDevBridge();
		expect(openDevBridge()).toBe(bridge);
		const { secret } = bridge;
		const call = makeHandle();
		bridge.env = { OTHER: {}, WS: call.rooms };
		const response = await run(call, question('/api/websocket?room=org-a', secret));
		expect(response.status).toBe(200);
		const answer = (await response.json()) as DevAuthorization;
		expect(JSON.parse(answer.handoff)).toEqual({ room: 'org-a', meta: { user_id: 'u-ada', user_name: 'Ada', permission: 3 } });
		// Which of the dev bindings the app's getServer chose; the room itself is not asked.
		expect(answer.binding).toBe('WS');
		expect(call.getServerCalls).toBe(1);
		expect(call.rooms.requests).toHaveLength(0);

		// The same checks as a real upgrade: a foreign origin, another wire version, a bad room, nobody
		// signed in, not a member; only authorize's and the wire version's refusals are marked as such
		// (the dev server turns them into close codes).
		const refusals: [Request, object, number, string, string | null][] = [
			[question('/api/websocket?room=org-a', secret, { origin: 'https://evil.example' }), adaLocals(), 403, 'origin_not_allowed', null],
			[question(`/api/websocket?room=org-a&${WIRE_PARAM}=${WIRE_VERSION + 1}`, secret), adaLocals(), 426, 'version_mismatch', '1'],
			[question('/api/websocket', secret), adaLocals(), 400, 'bad_room', null],
			[question('/api/websocket?room=org-a', secret), {}, 401, 'unauthorized', '1'],
			[question('/api/websocket?room=org-z', secret), adaLocals(), 403, 'forbidden', '1'],
		];
		for (const [request, locals, status, code, marked] of refusals) {
			const response = await run(call, request, locals);
			expect(response.headers.get(DEV_SOCKET_REFUSAL_HEADER)).toBe(marked);
			await expectRefusal(call, response, status, code);
		}
	});

	test('a wrong secret, or none registered (any deployed Worker), is an ordinary non-upgrade: 426', async () => {
		const call = makeHandle();
		await expectRefusal(call, await run(call, question('/api/websocket?room=org-a', 'guess')), 426, 'upgrade_required');
		const { secret } = openDevBridge();
		await expectRefusal(call, await run(call, question('/api/websocket?room=org-a', 'guess')), 426, 'upgrade_required');
		await expectRefusal(call, await run(call, question('/api/websocket?room=org-a', '')), 426, 'upgrade_required');
		expect(secret).toMatch(/^[0-9a-f]{48}$/);
		// A real upgrade still goes to the room as usual while the bridge is open.
		const real = makeHandle();
		await expectForwarded(real, await run(real, upgrade('/api/websocket?room=org-a')));
	});
});
