/**
 * The one implementation of "may this upgrade into that room, and with what metadata": the
 * `Origin` check, the room name, `authorize`, the refusals and the handoff to the room's Durable
 * Object. `createWebsocketHandle` (SvelteKit) and `handleUpgrade` (a plain Worker) are two thin
 * doors into it; they differ only in what they pass to `authorize` (a `RequestEvent` or the
 * `Request`) and in what they do with requests for other paths.
 *
 * Nothing here imports `@sveltejs/kit` at runtime: a plain Worker can use it without SvelteKit
 * installed. A SvelteKit `error(…)` thrown by `authorize` is recognised by its shape.
 *
 * | status | code | when |
 * |---|---|---|
 * | 426 | `upgrade_required` | a request to `path` that is not a WebSocket upgrade |
 * | 403 | `origin_not_allowed` | `Origin` missing or not allowed (cross-site WebSocket hijacking) |
 * | 426 ¹ | `version_mismatch` | `?wire=` is not this server's wire version: a page from another deploy |
 * | 400 | `bad_room` | `?room=` missing, repeated, empty, too long or with control characters |
 * | 401 ¹ | `unauthorized` | `authorize` returned nothing (nobody signed in) |
 * | 403 ¹ (or any) | `forbidden` (or the thrown `code`) | `authorize` threw `refuse(…)` or SvelteKit's `error(…)` |
 * | 503 | `server_unavailable` | no Durable Object namespace to send the room to |
 * | 500 | `internal_error` | `authorize` or `getServer` threw something else (logged) |
 * | 502 | `room_unavailable` | the room's Durable Object could not be reached (logged) |
 *
 * ¹ A browser never sees an upgrade's HTTP status, so on workerd these three are delivered as a
 * socket accepted and closed at once with 4426 / 4401 / 4403 (see `socketRefusal`), which the client
 * treats as terminal. The room is never involved.
 */
import { WIRE_PARAM, WIRE_VERSION } from '../rpc/wire-version.js';
import { authorizeFromAuthLocals, type Authorize } from './authorize.js';
import { devAuthorization, devSocketRefusal, isDevAuthorizeRequest } from './dev-bridge.js';
import { handOff, type RoomNamespace } from './handoff.js';
import { originChecker, type AllowedOrigins } from './origin.js';
import { socketRefusal, codeForStatus, refusal, UpgradeRefused } from './refusal.js';
import { DEFAULT_MAX_ROOM_LENGTH, readRoom } from './room.js';

/** The path the client connects to by default. */
export const DEFAULT_WEBSOCKET_PATH = '/api/websocket';

/** What both doors accept; `Context` is what `authorize` and an `allowedOrigins` function see. */
export interface UpgradeGateOptions<Meta extends object, Context> {
	/** The pathname whose WebSocket upgrades are taken (exact match). @default '/api/websocket' */
	path?: string;
	/** Who may join which room, and with what metadata. */
	authorize?: Authorize<Meta, Context>;
	/** Origins whose pages may open sockets besides the app's own, which is always allowed. @default none */
	allowedOrigins?: AllowedOrigins<Context>;
	/** Longest room name accepted, in characters. @default 256 */
	maxRoomLength?: number;
}

/** A checked configuration: what {@link admitUpgrade} runs with. */
export interface UpgradeGate<Meta extends object, Context> {
	path: string;
	authorize: Authorize<Meta, Context>;
	originAllowed: (request: Request, url: URL, context: Context) => boolean;
	maxRoomLength: number;
	/** Who is asking, for log lines: `createWebsocketHandle` or `handleUpgrade`. */
	caller: string;
}

/**
 * Checks the options once (a bad `path`, `maxRoomLength` or `allowedOrigins` entry throws here, at
 * start-up, not on the first request). Without `authorize`, the default reads `@delightstack/auth`
 * locals, which only a SvelteKit `RequestEvent` has.
 */
export function upgradeGate<Meta extends object, Context>(options: UpgradeGateOptions<Meta, Context>, caller: string): UpgradeGate<Meta, Context> {
	const path = options.path ?? DEFAULT_WEBSOCKET_PATH;
	if (!path.startsWith('/')) throw new TypeError(`${caller}: path must start with "/", got "${path}"`);
	const maxRoomLength = options.maxRoomLength ?? DEFAULT_MAX_ROOM_LENGTH;
	if (!Number.isInteger(maxRoomLength) || maxRoomLength < 1) {
		throw new TypeError(`${caller}: maxRoomLength must be a positive integer, got ${maxRoomLength}`);
	}
	// Without a custom `authorize`, Meta is the default's AuthSessionMeta (the type parameter's default).
	const authorize = options.authorize ?? (authorizeFromAuthLocals as unknown as Authorize<Meta, Context>);
	return { path, authorize, originAllowed: originChecker(options.allowedOrigins, caller), maxRoomLength, caller };
}

/**
 * Runs one request to the gate's path through every check, in order, and answers it: a refusal, or
 * the room's own answer to the upgrade (a 101 carrying the socket). `getServer` is asked only once
 * the socket is authorized.
 */
export async function admitUpgrade<Meta extends object, Context>(
	gate: UpgradeGate<Meta, Context>,
	request: Request,
	url: URL,
	context: Context,
	getServer: () => RoomNamespace | null | undefined,
): Promise<Response> {
	// `vite dev` only (see dev-bridge.ts): the dev server asks who this socket is before it opens it.
	const devAuthorize = isDevAuthorizeRequest(request);
	// Refusals a page must tell from an outage (authorization, wire version): a close code (`socketRefusal`).
	const refuseSocket = devAuthorize ? devSocketRefusal : socketRefusal;
	if (!devAuthorize && !isWebSocketUpgrade(request)) {
		return refusal(426, 'upgrade_required', `${gate.path} only accepts WebSocket upgrades (GET with "Upgrade: websocket")`, {
			upgrade: 'websocket',
		});
	}
	if (!gate.originAllowed(request, url, context)) {
		const origin = request.headers.get('origin');
		return refusal(
			403,
			'origin_not_allowed',
			origin === null
				? 'WebSocket upgrades must carry an Origin header'
				: `Pages from ${origin} may not open sockets here; add it to allowedOrigins if they should`,
		);
	}

	// A page from another deploy would misread this server's frames: it is told to reload.
	const stated = url.searchParams.getAll(WIRE_PARAM).join(',') || '1';
	if (stated !== String(WIRE_VERSION)) {
		return refuseSocket(426, 'version_mismatch', `This page speaks wire version ${stated}, the server ${WIRE_VERSION}`);
	}

	const requested = readRoom(url, gate.maxRoomLength);
	if ('problem' in requested) return refusal(400, 'bad_room', requested.problem);
	const { room } = requested;

	let meta: Meta;
	try {
		const allowed = await gate.authorize(context, room);
		if (allowed === null || allowed === undefined) {
			return refuseSocket(401, 'unauthorized', 'Sign in to join this room');
		}
		if (!isPlainObject(allowed.meta)) {
			console.error(`${gate.caller}: authorize must return { meta } with meta a plain object; got`, allowed);
			return refusal(500, 'internal_error', 'The server could not authorize this socket');
		}
		meta = allowed.meta;
	} catch (thrown) {
		const refused = thrownRefusal(thrown);
		if (refused) return refuseSocket(refused.status, refused.code, refused.message);
		console.error(`${gate.caller}: authorize threw`, thrown);
		return refusal(500, 'internal_error', 'The server could not authorize this socket');
	}

	let rooms: RoomNamespace | null | undefined;
	try {
		rooms = getServer();
	} catch (thrown) {
		console.error(`${gate.caller}: getServer threw`, thrown);
		return refusal(500, 'internal_error', 'The server could not find its rooms');
	}
	if (!rooms) {
		return refusal(503, 'server_unavailable', 'Rooms are not available: no Durable Object namespace to send this socket to');
	}

	if (devAuthorize) return devAuthorization({ room, meta }, rooms);

	try {
		return await handOff(rooms, request, { room, meta });
	} catch (thrown) {
		console.error(`${gate.caller}: the Durable Object of room "${room}" could not be reached`, thrown);
		return refusal(502, 'room_unavailable', 'The room could not be reached; try again');
	}
}

/**
 * What a thrown refusal asks for: our {@link UpgradeRefused}, or SvelteKit's `error(status, body)`,
 * recognised by its shape (`status` and a `body` with a `message`) so this module needs no import
 * of `@sveltejs/kit`. Anything else is not a refusal but a failure.
 */
function thrownRefusal(thrown: unknown): { status: number; code: string; message: string } | undefined {
	if (thrown instanceof UpgradeRefused) return { status: thrown.status, code: thrown.code, message: thrown.message };
	if (typeof thrown !== 'object' || thrown === null) return undefined;
	const { status, body } = thrown as { status?: unknown; body?: unknown };
	if (typeof status !== 'number' || status < 400 || status > 599 || typeof body !== 'object' || body === null) return undefined;
	const { message, code } = body as { message?: unknown; code?: unknown };
	return {
		status,
		code: typeof code === 'string' && code !== '' ? code : codeForStatus(status),
		message: typeof message === 'string' ? message : `Refused (${status})`,
	};
}

/** A WebSocket opening handshake: a GET whose `Upgrade` header lists `websocket`. */
function isWebSocketUpgrade(request: Request): boolean {
	if (request.method !== 'GET') return false;
	const upgrade = request.headers.get('upgrade');
	return upgrade !== null && upgrade.split(',').some((token) => token.trim().toLowerCase() === 'websocket');
}

/** JSON-shaped metadata: the room stores it as JSON and refuses anything else. */
function isPlainObject(value: unknown): boolean {
	if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
	const proto = Object.getPrototypeOf(value);
	return proto === Object.prototype || proto === null;
}
