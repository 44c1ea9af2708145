/**
 * PROFILING TOOL, outside the comparison: imports the library's internals on purpose.
 *
 * The pieces of one RPC frame's server-side handling, runnable alone inside workerd so their CPU
 * cost can be measured from outside (`bench/profile/micro.ts` reads workerd's CPU time around a request
 * that runs one piece `n` times). workerd freezes clocks during execution, so nothing is timed here.
 */
import { RpcSession, type RpcTransport } from 'capnweb';
import { RoomApi } from '../../do/index.js';
import { fullBuckets, spend } from '../../do/user-limits.js';
import { answerBatch, type CallBatch } from '../../calls/batch.js';
import { plainCall, PULL_FIRST } from '../../calls/shortcut/plain.js';
import { utf8LengthAtMost } from '../../do/frame-size.js';
import { Gate } from '../../do/gate.js';
import { resolveOptions } from '../../do/options.js';
import { callFrame, eventLine, eventsFrame, readHeader, replyFrame } from '../../rpc/frame.js';
import { encodePayload } from '../../rpc/payload.js';

class EchoApi extends RoomApi {
	echo<T>(value: T): T {
		return value;
	}
}

// What `ws.rpc.echo({n, pad})` sends with the bench's default 64-byte pad (one plain call and its pull).
const CALL = callFrame(7, [plainCall('echo', [{ n: 1, pad: 'x'.repeat(64) }])!, PULL_FIRST]);
const REPLY = [JSON.stringify(['resolve', 1, { n: 1, pad: 'x'.repeat(64) }])];
// No random values at global scope in workerd: a fixed id is as good for measuring.
const SESSION = { ws_session_id: '00000000-0000-4000-8000-000000000000', room: 'micro', meta: { user_id: 'bench' }, connected_at: Date.now() };
const POLICY = { capacity: 1e9, refillEveryMs: 1 };
const POLICIES = { calls: POLICY, events: POLICY, frames: POLICY, connects: POLICY };
const STATE = { session: SESSION, limits: fullBuckets(POLICIES, Date.now()), seen: Date.now(), refusals: 0 };
// The room's default options, with rate limits of the ops' own (they never run out).
const OPTIONS = resolveOptions({ rateLimit: POLICY, frameRateLimit: POLICY });
// The room's gate. No storage: nothing here admits a socket.
const GATE = new Gate(OPTIONS, null as never, EchoApi);

function parse(raw: string): CallBatch {
	const header = readHeader(raw)!;
	const lines = raw.slice(header.body).split('\n');
	return { lines, messages: lines.map((line) => JSON.parse(line) as unknown) };
}

class NullTransport implements RpcTransport {
	send(): void {}
	receive(): Promise<string> {
		return new Promise(() => {});
	}
}

let socket: WebSocket | undefined;
function attachmentSocket(): WebSocket {
	if (!socket) {
		socket = new WebSocketPair()[1];
		socket.accept();
	}
	return socket;
}

/** One unit of each piece. `async` ones are awaited one at a time, as the room does. */
export const OPS: Record<string, () => unknown> = {
	/** Nothing: the loop and request overhead every other figure is measured against. */
	baseline: () => undefined,
	/** Header, split, JSON.parse of each message: the least any batch handler must do. */
	'parse frame': () => parse(CALL),
	/** `new RoomApi(room, session)`: an RpcTarget per batch. */
	'new RoomApi': () => new EchoApi(null as never, SESSION),
	/** `new RpcSession(transport, main)` alone: capnweb's per-frame session setup. */
	'new RpcSession': () => new RpcSession(new NullTransport(), new EchoApi(null as never, SESSION)),
	/**
	 * What the room does with that frame between the socket and the reply's `send`, as
	 * `webSocketMessage` does it: the frame's token, the header, the size check, the gate's check of
	 * the batch (read as one plain call), its charge, `new RoomApi`, the call (answered without a
	 * session), the reply frame.
	 */
	'call path (shortcut)': () => {
		const now = Date.now();
		GATE.spendFrame(STATE.limits, now);
		const header = readHeader(CALL)!;
		if (!utf8LengthAtMost(CALL, OPTIONS.maxFrameBytes)) throw new Error('too large');
		const batch = GATE.inspect(CALL.slice(header.body));
		if (batch instanceof Error || !batch.single) throw new Error('not read as one plain call');
		GATE.charge(STATE.limits, batch, now);
		return replyFrame(header.id, answerBatch(batch, new EchoApi(null as never, SESSION)) as string[]);
	},
	/** parse + `answerBatch` of the same frame through a fresh capnweb RpcSession: what a batch the shortcut does not read costs. */
	'parse + answerBatch (session)': () => answerBatch(parse(CALL), new EchoApi(null as never, SESSION)),
	/** The rate-limit buckets spent per frame: the frame's token and its call's. */
	'spend (rate limit)': () => spend(STATE.limits, 'frames', POLICY, 1, Date.now()) && spend(STATE.limits, 'calls', POLICY, 1, Date.now()),
	/** Saving the spent buckets: `serializeAttachment` of the session state, on every frame. */
	serializeAttachment: () => attachmentSocket().serializeAttachment({ v: 2, ...STATE }),
	/** Building the reply frame. */
	replyFrame: () => replyFrame(7, REPLY),
	/** Payload codec + capnweb encoding of one broadcast (done once per broadcast, not per socket). */
	'broadcast frame': () => eventsFrame([eventLine('bench:shout', encodePayload({ seq: 1, t: 1, pad: 'x'.repeat(64) }))]),
};

export async function runOp(name: string, n: number): Promise<Response> {
	if (name === 'list') return Response.json(Object.keys(OPS));
	const op = OPS[name];
	if (!op) return new Response(`no op ${name}; have ${Object.keys(OPS).join(', ')}`, { status: 404 });
	for (let i = 0; i < n; i++) {
		const result = op();
		if (result instanceof Promise) await result;
	}
	return new Response('ok');
}
