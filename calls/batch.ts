/**
 * capnweb over a hibernating socket: one self-contained batch per frame.
 *
 * A persistent capnweb session would live in the room's memory and die with eviction, so instead
 * each frame carries a whole batch, the way capnweb's HTTP batch transport does. The client gathers
 * the calls made in one macrotask (so pipelined calls share the frame), sends them with a
 * correlation id, and the room answers them all in one frame. Nothing about a call outlives its
 * frame.
 */
import { RpcPromise, RpcSession, RpcTarget, type RpcSessionOptions, type RpcTransport } from 'capnweb';
import { RoomError } from '../rpc/errors.js';
import { plainMethod, plainPush, PULL_FIRST, readPlainCall, REJECT_FIRST, RESOLVE_FIRST, type PlainCall } from './shortcut/plain.js';
import { plainError, plainValue } from './shortcut/plain-result.js';
import { SHORTCUT } from './shortcut/switch.js';
import { AnsweringTransport, type BatchControl } from './answering-transport.js';

export { deliverWithSession, type BatchControl } from './answering-transport.js';

/**
 * A call frame's body as the room read it to check it before anything runs: its lines, and either
 * the one plain call nearly every batch is, or every message parsed.
 */
export interface CallBatch {
	lines: readonly string[];
	/** The messages of Errors the browser put in the batch (see {@link wireErrorFor}). */
	clientErrors?: ReadonlySet<string>;
	/** The batch is exactly one plain call, with or without the pull of its result (see {@link singleCall}). */
	single?: PlainCall;
	/**
	 * Nothing in the batch is pulled: the caller waits for no answer, so the room sends none (a
	 * refusal still goes out, as `x<id>`).
	 */
	oneWay?: boolean;
	/** Every line parsed; may be left out when `single` is there. */
	messages?: readonly unknown[];
}

/**
 * The batch `rpc.method(data)` sends — one plain call (see `plain.ts`), then the pull of its result
 * when it is awaited, or the call alone when it is not — read from its text, arguments evaluated;
 * `undefined` for any other batch.
 */
export function singleCall(lines: readonly string[]): PlainCall | undefined {
	if (!SHORTCUT || lines.length > 2 || (lines.length === 2 && lines[1] !== PULL_FIRST)) return undefined;
	return readPlainCall(lines[0]!);
}

/** Whether any message of a checked batch is a `pull`: someone waits for an answer. */
export function pullsAnything(messages: readonly unknown[]): boolean {
	return messages.some((message) => (message as unknown[])[0] === 'pull');
}

/**
 * Runs one batch against `main` and returns the reply messages once every call has settled.
 *
 * A single plain call is answered without a session: the method runs once, and only when its
 * outcome is something `serialize` cannot write as a session would (a stub, an RpcTarget, an Error
 * inside a result) does a session write the reply, from the outcome already in hand. A plain call
 * whose method returns a value (not a promise) is answered at once, without a promise: most calls
 * are, and a room answering them pays for no timer, no microtask and no deadline.
 */
export function answerBatch(batch: CallBatch, main: object, options: RpcSessionOptions = {}, control?: BatchControl): string[] | Promise<string[]> {
	const call = batch.single;
	// Custom limits would change how a session evaluates the arguments: leave those to it.
	const method = call && options.limits === undefined && main instanceof RpcTarget ? plainMethod(main, call.method) : undefined;
	if (!call || !method) return answerWithSession(messagesOf(batch), main, options, control);

	let result: unknown;
	try {
		result = method.apply(main, call.args);
	} catch (error) {
		return answerPlain(batch, call.method, { ok: false, error }, options, control);
	}
	// As capnweb's deliverCall: an RpcPromise is passed on as it is, anything else awaited.
	if (result instanceof RpcPromise || typeof (result as PromiseLike<unknown> | null)?.then !== 'function') {
		return answerPlain(batch, call.method, { ok: true, value: result }, options, control);
	}
	return Promise.resolve(result as PromiseLike<unknown>).then(
		(value) => answerPlain(batch, call.method, { ok: true, value }, options, control),
		(error: unknown) => answerPlain(batch, call.method, { ok: false, error }, options, control),
	);
}

/**
 * The answer to a plain call from its outcome: the one plain message a session would send, or else
 * a session writes it from the outcome in hand. A session calls onSendError once for a thrown
 * Error; so do we, and hand a replaying session the same answer instead of asking twice (it may log).
 */
function answerPlain(batch: CallBatch, method: string, outcome: Outcome, options: RpcSessionOptions, control?: BatchControl): string[] | Promise<string[]> {
	// Nothing pulled: a session sends nothing for it, and nobody would read it.
	if (batch.lines.length === 1) return [];
	let json: string | undefined;
	let sessionOptions = options;
	if (outcome.ok) json = plainValue(outcome.value);
	else if (!(outcome.error instanceof Error)) json = plainValue(outcome.error);
	else {
		const { error } = outcome;
		const rewritten = options.onSendError?.(error) || undefined;
		json = plainError(rewritten ?? error, rewritten !== undefined);
		sessionOptions = { ...options, onSendError: (e: Error) => (e === error ? rewritten : options.onSendError?.(e)) };
	}
	if (json !== undefined) return [`${outcome.ok ? RESOLVE_FIRST : REJECT_FIRST}${json}]`];
	return answerWithSession(messagesOf(batch), replay(method, outcome), sessionOptions, control);
}

function messagesOf(batch: CallBatch): readonly unknown[] {
	return batch.messages ?? batch.lines.map((line) => JSON.parse(line) as unknown);
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** A main object whose `method` hands back what the real one already did, for a session to encode. */
function replay(method: string, outcome: Outcome): object {
	return {
		[method]: () => {
			if (outcome.ok) return outcome.value;
			throw outcome.error;
		},
	};
}

/** Runs one batch through a capnweb session: any batch, and the reference `answerBatch` must equal. */
export async function answerWithSession(messages: readonly unknown[], main: object, options?: RpcSessionOptions, control?: BatchControl): Promise<string[]> {
	const transport = new AnsweringTransport(messages, control);
	const session = new RpcSession(transport, main, options);
	await transport.allReceived;
	await session.drain();
	return transport.replies;
}

/**
 * The room's `onSendError` for one batch: errors leave the room with a stable `code` and without a
 * stack (capnweb sends the stack of an error this returns; the room's file paths are not the
 * caller's business). Anything that is not a `RoomError` is logged — unless its message is one of
 * `fromClient`, the Errors the browser itself put in the batch (sent back, they are not something
 * the room threw).
 */
export function wireErrorFor(fromClient?: ReadonlySet<string>): (error: Error) => Error {
	return (error) => toWireError(error, !fromClient?.has(error.message));
}

/**
 * {@link wireErrorFor} with nothing from the client: logs every error that is not a `RoomError`,
 * except capnweb's own refusals of what the browser asked for (a path that names no function, a
 * property of nothing), which go back as `bad_request`: the caller's mistake, not the room's failure.
 */
export function toWireError(error: Error, log = true): Error {
	let wire = error;
	if (error instanceof RoomError) wire = error;
	else if (thrownByCapnweb(error)) wire = new RoomError('bad_request', error.message, 400);
	else {
		if (log) console.error('A room method threw', describeError(error));
		wire = new RoomError('method_failed', error.message, 500);
	}
	if (!wire.stack) return wire;
	// A copy, not the thrown object: it may be shared, and its stack is still useful to the room.
	return Object.assign(Object.create(wire, { stack: { value: undefined } }) as Error, wire);
}

/**
 * Whether capnweb itself threw `error` while following a path or evaluating a value the browser
 * sent: its innermost stack frame is one of capnweb's classes, not room code.
 */
function thrownByCapnweb(error: Error): boolean {
	const top = (error.stack ?? '').split('\n').find((line) => /^\s+at /.test(line));
	return top !== undefined && CAPNWEB_FRAME.test(top);
}

const CAPNWEB_FRAME = /^\s+at (?:async )?(?:new )?(?:followPath\b|(?:\w*StubHook|RpcPayload|Evaluator|Devaluator|RpcSessionImpl|RpcImportHook)\d*\.)/;

/**
 * An error for the log: its name, its message quoted (it may hold what a browser sent, and quoting
 * keeps it to one line that cannot pose as another log entry), then its stack frames.
 */
export function describeError(error: unknown): string {
	if (!(error instanceof Error)) return JSON.stringify(String(error));
	const frames = (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
	return [`${error.name}: ${JSON.stringify(error.message)}`, ...frames].join('\n');
}

/** Collects what a session sends and never receives anything: for one-way batches. */
class OneWayTransport implements RpcTransport {
	readonly sent: string[] = [];
	send(message: string): void {
		this.sent.push(message);
	}
	receive(): Promise<string> {
		return new Promise(() => {});
	}
}

/**
 * Serializes one-way calls on the peer's main object as capnweb `push` messages. Nothing is pulled,
 * so the peer answers nothing. The result is computed once and may be sent to any number of peers.
 * Calls with plain data arguments (`closing`, `confirm`) are written without a session.
 */
export function encodeCalls(calls: ReadonlyArray<readonly [method: string, ...args: unknown[]]>): string[] {
	const lines: string[] = [];
	for (const [method, ...args] of calls) {
		const line = SHORTCUT ? plainPush(method, args) : undefined;
		if (line === undefined) return encodeWithSession(calls);
		lines.push(line);
	}
	return lines;
}

/** {@link encodeCalls} through a capnweb session: any calls, and the reference for the plain path. */
export function encodeWithSession(calls: ReadonlyArray<readonly [method: string, ...args: unknown[]]>): string[] {
	const transport = new OneWayTransport();
	const remote = new RpcSession<Record<string, (...args: unknown[]) => unknown>>(transport).getRemoteMain();
	for (const [method, ...args] of calls) (remote as any)[method](...args);
	return transport.sent;
}
