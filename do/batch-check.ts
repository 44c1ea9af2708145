/**
 * What a browser may put in a call batch, checked before anything in it runs.
 *
 * capnweb evaluates calls in more places than a batch's top level: an `import` or `pipeline`
 * expression with arguments is a call wherever it stands (inside another call's arguments, inside an
 * Error's properties), `remap` runs its instructions once per element, and a reference to the main
 * object can be called under any name it has. A plain caller (`ws.rpc.a(x)`, pipelining, `map`)
 * only ever produces:
 *
 * - `push` of a call or property read on the API (`["pipeline", 0, [declared, …], args?]`) or on an
 *   earlier result of the same batch (`["pipeline", n, path, args?]`);
 * - `push` of a `remap` over such a target whose callback only reads properties;
 * - inside arguments: data, and references to earlier results (`["pipeline", n, path?]`);
 * - `pull` and `release` of this batch's results.
 *
 * So that is all a batch may hold. Anything else is refused whole with 400 before it runs: a call
 * where no plain caller puts one, a reference to the API object in arguments (which could be called
 * under an undeclared name), functions, stubs, promises and streams from the browser (a one-frame
 * batch can never call back into the browser, so the room would wait for them forever), and a map
 * callback that calls or captures anything (it would run once per element for one push).
 *
 * Every push is charged: one token, plus one per reference with a path in its arguments (a path
 * read can run a getter).
 */
import { DEFAULT_LIMITS } from 'capnweb';
import { RoomError } from '../rpc/errors.js';
import { EVENT_METHOD } from '../rpc/protocol.js';
import { isReservedEvent } from '../rpc/types.js';

/** One push of a batch: what it costs, and whether it is a browser event (and which). */
export interface PushCost {
	/** Tokens it costs. */
	tokens: number;
	/** For `send(event, data)`: the event's name (its prefix may pick a cheaper bucket). */
	event?: string;
	/** Set when charged: the buckets could not cover it, so it is answered `rate_limited`. */
	refused?: boolean;
}

/** A batch that passed: every message parsed, and each push's cost in order. */
export interface CheckedBatch {
	messages: unknown[];
	pushes: PushCost[];
	/**
	 * The messages of the Errors the browser put in the batch: an error the room sends back with one
	 * of these messages is the browser's own, not something room code threw, and is not logged.
	 */
	clientErrors?: Set<string>;
}

/** Nesting allowed inside one expression; capnweb's own limit is 64. */
const MAX_DEPTH = 64;

/**
 * Special values that are data (capnweb's Evaluator builds them without calling anything), each with
 * the exact shape the Evaluator accepts: anything else would make it throw mid-batch, and the room
 * would report a client's malformed value as its own failure.
 */
const DATA_SHAPES: Record<string, (value: unknown[]) => boolean> = {
	__proto__: null as never,
	bigint: (v) => v.length === 2 && typeof v[1] === 'string' && BIGINT.test(v[1]) && v[1].length <= DEFAULT_LIMITS.maxBigIntDigits,
	date: (v) => v.length === 2 && (v[1] === null || typeof v[1] === 'number'),
	bytes: (v) => typeof v[1] === 'string' && BASE64.test(v[1]) && (v.length === 2 || (v.length === 3 && typeof v[2] === 'string' && fitsElements(v[1], v[2]))),
	undefined: (v) => v.length === 1,
	inf: (v) => v.length === 1,
	'-inf': (v) => v.length === 1,
	nan: (v) => v.length === 1,
	url: (v) => v.length === 2 && typeof v[1] === 'string' && URL.canParse(v[1]),
	headers: (v) =>
		v.length === 2 &&
		Array.isArray(v[1]) &&
		v[1].every((pair) => Array.isArray(pair) && pair.length === 2 && HEADER_NAME.test(pair[0]) && HEADER_VALUE.test(pair[1])),
};
const BIGINT = /^-?\d+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[^\0\r\n]*$/;
/** Bytes per element of each kind of binary value capnweb rebuilds (1 where any length fits). */
const BYTE_MARKERS: Record<string, number> = {
	__proto__: null as never,
	ArrayBuffer: 1,
	DataView: 1,
	Int8Array: 1,
	Uint8Array: 1,
	Uint8ClampedArray: 1,
	Int16Array: 2,
	Uint16Array: 2,
	Int32Array: 4,
	Uint32Array: 4,
	Float32Array: 4,
	BigInt64Array: 8,
	BigUint64Array: 8,
	Float64Array: 8,
};

/** Whether base64 `data` decodes to a whole number of `marker`'s elements. */
function fitsElements(data: string, marker: string): boolean {
	const size = BYTE_MARKERS[marker];
	const bytes = Math.floor((data.replace(/=+$/, '').length * 6) / 8);
	return size !== undefined && bytes % size === 0;
}
/** Values that would make the room wait for the browser or call into it. */
const CALLBACK_TAGS = new Set(['export', 'promise', 'writable', 'readable', 'request', 'response', 'blob']);

const bad = (message: string) => new RoomError('bad_request', message, 400);

/**
 * Checks a batch's lines against the API's callable names; returns what it costs, or the error that
 * refuses it whole. Runs nothing.
 */
export function checkBatch(lines: readonly string[], callable: ReadonlySet<string>): CheckedBatch | RoomError {
	const messages: unknown[] = [];
	const pushes: PushCost[] = [];
	const pulled = new Set<number>();
	const clientErrors = new Set<string>();
	for (const line of lines) {
		let message: unknown;
		try {
			message = JSON.parse(line);
		} catch {
			return bad('A message in the batch is not valid JSON');
		}
		if (!Array.isArray(message)) return bad('A message in the batch is not a capnweb message');
		messages.push(message);
		switch (message[0]) {
			case 'push': {
				if (message.length !== 2) return bad('A push takes one expression');
				const cost = checkPush(message[1], pushes.length + 1, callable, clientErrors);
				if (cost instanceof RoomError) return cost;
				pushes.push(cost);
				break;
			}
			case 'pull': {
				const id = message[1];
				if (message.length !== 2 || !isResultId(id, pushes.length) || pulled.has(id)) {
					return bad(`"pull" must name an earlier call of the same batch, once`);
				}
				pulled.add(id);
				break;
			}
			case 'release': {
				const [, id, count] = message;
				if (message.length !== 3 || !isResultId(id, pushes.length) || !Number.isSafeInteger(count) || (count as number) < 1) {
					return bad(`"release" must name an earlier call of the same batch and a positive count`);
				}
				break;
			}
			default:
				return bad(`A call batch may only push, pull and release; got ${JSON.stringify(String(message[0])).slice(0, 40)}`);
		}
	}
	return clientErrors.size > 0 ? { messages, pushes, clientErrors } : { messages, pushes };
}

/** `id` is one of this batch's results so far: pushes are numbered 1, 2, … in order. */
function isResultId(id: unknown, pushesSoFar: number): id is number {
	return Number.isInteger(id) && (id as number) >= 1 && (id as number) <= pushesSoFar;
}

/** Checks one push (numbered `self`); returns its cost. */
function checkPush(expression: unknown, self: number, callable: ReadonlySet<string>, clientErrors: Set<string>): PushCost | RoomError {
	if (!Array.isArray(expression) || (expression[0] !== 'pipeline' && expression[0] !== 'import' && expression[0] !== 'remap')) {
		return bad('A push must call or read something on the room or on an earlier result');
	}
	const [kind, target, path] = expression as [string, unknown, unknown];
	if (!isTarget(target, self)) return bad('A call must target the room or an earlier result of the same batch');
	if (!isPath(path)) return bad('A call needs a path of names');
	const name = checkTargetPath(target, path, callable);
	if (name instanceof RoomError) return name;

	if (kind === 'remap') {
		const [, , , captures, instructions] = expression as unknown[];
		if (expression.length !== 5 || !Array.isArray(captures) || !Array.isArray(instructions)) return bad('A malformed map()');
		if (captures.length > 0) return bad('A map() callback may not capture anything: it would run once per element');
		if (name === EVENT_METHOD) return bad('Events cannot be mapped');
		for (const instruction of instructions) {
			const refused = checkMapInstruction(instruction, clientErrors);
			if (refused) return refused;
		}
		return { tokens: 1 };
	}

	if (expression.length > 4 || expression.length < 3) return bad('A malformed call');
	const args = expression[3];
	if (expression.length === 4 && !Array.isArray(args)) return bad('Arguments must be an array');
	let tokens = 1;
	if (Array.isArray(args)) {
		const refs = checkArguments(args, self, clientErrors);
		if (refs instanceof RoomError) return refs;
		tokens += refs;
	}
	if (name !== EVENT_METHOD) return { tokens };
	if (!Array.isArray(args)) return bad('An event must be sent, not read');
	return refuseEventName(args[0]) ?? { tokens, event: args[0] as string };
}

/**
 * The one plain call most frames are (`rpc.method(…args)` on the API object, read by the shortcut):
 * allowed when `method` is declared; what it costs.
 */
export function checkPlainCall(method: string, args: readonly unknown[], callable: ReadonlySet<string>): PushCost | RoomError {
	if (!callable.has(method)) return unknownMethod(method);
	if (method !== EVENT_METHOD) return { tokens: 1 };
	return refuseEventName(args[0]) ?? { tokens: 1, event: args[0] as string };
}

/**
 * Why a browser may not send an event named `event`, or nothing when it may. Checked where a batch
 * is read and again where the event is received (`WebsocketServer[receiveEvent]`), the one door
 * every event comes through however a batch reached it.
 */
export function refuseEventName(event: unknown): RoomError | undefined {
	if (typeof event !== 'string' || event === '') return bad('An event needs a non-empty string name');
	if (isReservedEvent(event)) return new RoomError('forbidden_event', `Clients may not send ${JSON.stringify(event)}: only the room sends it`, 403);
	return undefined;
}

const unknownMethod = (name: string) => new RoomError('unknown_method', `The room has no method ${JSON.stringify(name)}`, 404);

function isTarget(target: unknown, self: number): target is number {
	return Number.isInteger(target) && (target as number) >= 0 && (target as number) < self;
}

function isPath(path: unknown): path is Array<string | number> {
	return Array.isArray(path) && path.every((p) => typeof p === 'string' || typeof p === 'number');
}

/**
 * On the API object, the path must start with a declared name; `send`'s entry point only as a
 * direct call. On an earlier result, capnweb's own rules apply, but never the event entry point
 * (a result may be the API object itself).
 */
function checkTargetPath(target: number, path: ReadonlyArray<string | number>, callable: ReadonlySet<string>): string | RoomError {
	const first = path[0];
	const inherited = path.find(isInheritedName);
	if (inherited !== undefined) return unknownMethod(String(inherited));
	if (target === 0) {
		if (typeof first !== 'string' || !callable.has(first)) return unknownMethod(String(first ?? ''));
		if (first === EVENT_METHOD && path.length !== 1) return bad('Events are sent, not read');
	}
	if ((target !== 0 || path.length > 1) && path.slice(target === 0 ? 1 : 0).includes(EVENT_METHOD)) {
		return new RoomError('unknown_method', `The room has no method ${JSON.stringify(EVENT_METHOD)} there`, 404);
	}
	return typeof first === 'string' ? first : '';
}

/**
 * Walks a value as capnweb's Evaluator would, refusing anything that is not data. `reference` decides
 * on each `pipeline`/`import` expression (the only kind that names something in the batch).
 */
function checkData(value: unknown, reference: (expression: unknown[]) => RoomError | undefined, errors: Set<string>, depth = 1): RoomError | undefined {
	if (depth > MAX_DEPTH) return bad(`A value nests deeper than ${MAX_DEPTH}`);
	if (typeof value !== 'object' || value === null) return undefined;
	let children: Iterable<unknown>;
	if (!Array.isArray(value)) children = Object.values(value);
	// An array is written `[[…]]`; any other array is a special value, named by its first element.
	else if (value.length === 1 && Array.isArray(value[0])) children = value[0];
	else {
		const tag = value[0];
		const shape = typeof tag === 'string' ? DATA_SHAPES[tag] : undefined;
		if (shape) return shape(value) ? undefined : bad(`A malformed ${JSON.stringify(tag)} value`);
		if (tag === 'error') {
			const [, name, message, , props] = value;
			if (value.length > 5 || typeof name !== 'string' || typeof message !== 'string') return bad('A malformed "error" value');
			if (value.length === 5 && (!props || typeof props !== 'object' || Array.isArray(props))) return bad('A malformed "error" value');
			errors.add(message);
			children = value.length === 5 ? [props] : [];
		} else if (tag === 'pipeline' || tag === 'import') return reference(value);
		else if (typeof tag === 'string' && CALLBACK_TAGS.has(tag)) {
			return bad(`Values may not carry functions, stubs, promises or streams ("${tag}"): a call's frame cannot call back into the browser`);
		} else return bad(`Values may not hold ${JSON.stringify(String(tag).slice(0, 20))}`);
	}
	for (const child of children) {
		const refused = checkData(child, reference, errors, depth + 1);
		if (refused) return refused;
	}
	return undefined;
}

/**
 * Names every object or function inherits (`constructor`, `__proto__`, `call`, `toString`, …): capnweb
 * refuses them too, but refusing them here keeps such batches from running at all.
 */
function isInheritedName(part: string | number): boolean {
	return typeof part === 'string' && INHERITED.has(part);
}

// `length` and `name` are left out: data has them too, and they call nothing.
const INHERITED: ReadonlySet<string> = new Set([...Object.getOwnPropertyNames(Object.prototype), 'apply', 'bind', 'call', 'arguments', 'caller']);

const readsNoEvent = (path: unknown) =>
	!isPath(path)
		? bad('A reference needs a path of names')
		: path.some((p) => p === EVENT_METHOD || isInheritedName(p))
			? new RoomError('unknown_method', 'The room has no such method there', 404)
			: undefined;

/**
 * Arguments: data and references to earlier results only. Returns how many references read a path
 * (each may run a getter, so each is charged).
 */
function checkArguments(args: unknown[], self: number, errors: Set<string>): number | RoomError {
	let pathReads = 0;
	const refused = checkData(
		[args],
		(ref) => {
			if (ref.length === 4) return bad('A call inside arguments: make it its own call and pass its result');
			if (!isTarget(ref[1], self) || ref[1] === 0) return bad('Arguments may reference earlier results of the same batch only, never the room itself');
			if (ref.length === 3) {
				const wrong = readsNoEvent(ref[2]);
				if (wrong) return wrong;
				if ((ref[2] as unknown[]).length > 0) pathReads++;
			} else if (ref.length !== 2) return bad('A malformed reference');
			return undefined;
		},
		errors,
	);
	return refused ?? pathReads;
}

/**
 * One instruction of a map() callback: it may read properties of the element (index 0) or of
 * earlier instructions' results (positive indices) and build data from them; it may not call
 * anything (negative indices would be captures, and there are none).
 */
function checkMapInstruction(instruction: unknown, errors: Set<string>): RoomError | undefined {
	return checkData(
		[[instruction]],
		(ref) => {
			if (ref.length > 3 || !Number.isInteger(ref[1]) || (ref[1] as number) < 0) {
				return bad('A map() callback may only read properties of the element, not call anything');
			}
			return ref.length === 3 ? readsNoEvent(ref[2]) : undefined;
		},
		errors,
	);
}
