/**
 * Mutated capnweb batches against a room in workerd: every expression kind capnweb's Evaluator
 * knows, in every position, then mutated (wrong types, wrong ids, cut text, hostile names). Bounded
 * in frames and time so it runs in CI. The room has no rate limits here (`OpenRoom`), so every frame
 * reaches the checks. Each call frame must be answered (`r<id>` or `x<id>`), the room must keep
 * serving another member, and that member must hear nothing the room did not send.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { Probe, joinInTurn } from '../support/probe.js';
import { seededRandom } from '../support/random.js';
import { startRoomWorker, type RoomWorker } from '../support/workerd.js';

let worker: RoomWorker;
beforeAll(async () => (worker = await startRoomWorker()));
afterAll(() => worker.dispose());

const FRAMES = 3_000;
const TIME_BUDGET_MS = 40_000;
const IN_FLIGHT = 16;

const SEED = Number(process.env.FUZZ_SEED ?? 20261206);
const rand = seededRandom(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
const int = (max: number) => Math.floor(rand() * max);

const NAMES = [
	'whoami',
	'echo',
	'add',
	'counter',
	'increment',
	'value',
	'fail',
	'crash',
	'post',
	'version',
	'~event',
	'~refused',
	'constructor',
	'__proto__',
	'toString',
	'call',
	'apply',
	'room',
	'session',
	'broadcast',
	'kick',
	'fetch',
	'webSocketMessage',
	'length',
	'then',
	'map',
	0,
	-1,
	99,
];
const EVENTS = ['relay', 'echo', 'cursor:move', 'session:connected', 'session:list', 'entity:updated', 'error', 'ws:connected', '*', '', 7];
const IDS = [0, 1, 2, 3, -1, -2, 99, 2 ** 31, 1.5, '1', null];

/** A random capnweb expression of any kind, `depth` levels deep at most. */
function expression(depth: number): unknown {
	const leaf = [
		() => int(1000),
		() => 'x'.repeat(int(40)),
		() => true,
		() => null,
		() => ({ a: int(9), __proto__x: 1 }),
		() => JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}}}'),
		() => ['bigint', pick(['12', '9'.repeat(5_000), 'x'])],
		() => ['date', pick([0, 1e20, null, 'now'])],
		() => ['bytes', pick(['AAEC', '!!', 42])],
		() => ['undefined'],
		() => [pick(['inf', '-inf', 'nan'])],
		() => ['url', pick(['https://a/', 'not a url', 5])],
		() => ['headers', pick<unknown>([[['a', 'b']], 'x', [[1]]])],
		() => ['nosuch', 1],
	];
	if (depth <= 0) return pick(leaf)();
	const inner = () => expression(depth - 1);
	const node = [
		...leaf,
		() => [Array.from({ length: int(4) }, inner)],
		() => ({ [pick(['a', 'toJSON', 'then', '__proto__'])]: inner() }),
		() => ['pipeline', pick(IDS), [pick(NAMES)], ...(rand() < 0.5 ? [Array.from({ length: int(3) }, inner)] : [])],
		() => ['pipeline', pick(IDS)],
		() => ['import', pick(IDS), [pick(NAMES), pick(NAMES)], [inner()]],
		() => [
			'remap',
			pick(IDS),
			[pick(NAMES)],
			pick([[], [['import', 0]], [['export', -1]], [['bogus']]]),
			[inner(), ['pipeline', pick([0, -1, 1]), [pick(NAMES)], [inner()]]],
		],
		() => ['pipeline', 0, ['~event'], [pick(EVENTS), { json: inner(), meta: rand() < 0.3 ? { values: [['typed-array', 'Float64Array']] } : undefined }]],
		() => [pick(['export', 'promise', 'writable', 'readable']), pick(IDS)],
		() => ['request', 'https://a/', { body: inner(), headers: inner() }],
		() => ['response', inner(), { status: 200 }],
		() => ['blob', 'text/plain', inner()],
		() => ['error', pick(['Error', 'TypeError', 'Nope']), 'msg\nforged', pick([undefined, 'stack']), { cause: inner(), toJSON: inner() }],
	];
	return pick(node)();
}

/** Plain data of the kinds a real client sends. */
function data(depth: number): unknown {
	const kinds: Array<() => unknown> = [
		() => int(100),
		() => 'text',
		() => null,
		() => ['date', 1],
		() => ['bigint', '42'],
		() => ['bytes', 'AAEC'],
		() => ['undefined'],
	];
	if (depth > 0)
		kinds.push(
			() => [[data(depth - 1), data(depth - 1)]],
			() => ({ k: data(depth - 1) }),
		);
	return pick(kinds)();
}

/** A batch a real client could send: calls, pipelined calls on results, references, pulls. */
function plausibleBatch(): unknown[] {
	const messages: unknown[] = [];
	const pushes = 1 + int(3);
	for (let i = 1; i <= pushes; i++) {
		const target = int(i);
		const args = target === 0 ? [data(2), data(1)] : [int(5)];
		const method = target === 0 ? pick(['echo', 'add', 'whoami', 'counter', 'fail', 'crash', 'version', '~event']) : pick(['increment', 'value', 'id']);
		const call =
			method === '~event'
				? ['pipeline', 0, [method], [pick(EVENTS), { json: data(2) }]]
				: ['pipeline', target, [method], ...(method === 'version' ? [] : [args])];
		messages.push(['push', rand() < 0.2 && i > 1 ? ['pipeline', 0, ['echo'], [['pipeline', int(i - 1) + 1, pick([[], ['id']])]]] : call]);
	}
	for (let i = 1; i <= pushes; i++) if (rand() < 0.8) messages.push(['pull', i]);
	return messages;
}

/** A random batch: capnweb messages of every kind, about half of them plausible, then mutated. */
function batchLines(): string[] {
	if (rand() < 0.5) return plausibleBatch().map((m) => mutate(JSON.stringify(m)));
	const lines: string[] = [];
	const count = 1 + int(4);
	for (let i = 0; i < count; i++) {
		const message = pick([
			() => ['push', ['pipeline', 0, [pick(NAMES)], Array.from({ length: int(3) }, () => expression(3))]],
			() => ['push', expression(3)],
			() => ['pull', pick(IDS)],
			() => ['release', pick(IDS), pick([1, 0, -1, 5])],
			() => ['abort', expression(1)],
			() => ['resolve', pick(IDS), expression(2)],
			() => ['reject', pick(IDS), expression(1)],
			() => [pick(['push', 'pull', 'stream', 'bogus'])],
		])();
		lines.push(JSON.stringify(message) ?? 'null');
	}
	return lines.map(mutate);
}

/** Sometimes damages a line's text: cut, spliced, or a value swapped for another type. */
function mutate(line: string): string {
	const roll = rand();
	if (roll < 0.1) return line.slice(0, int(line.length));
	if (roll < 0.15) return line.slice(0, int(line.length)) + pick(['"', ']', '[', '\\', '\u0000', '{}', ',,']) + line.slice(int(line.length));
	if (roll < 0.25) return line.replace(/\d+/, pick(['-1', '1e400', '"1"', 'null', '2147483648']));
	return line;
}

/** A pulled call that always runs: answered after anything sent before it that is answered at once. */
const FENCE = ['["push",["pipeline",0,["add"],[1,1]]]', '["pull",1]'];

/** Whether every line is a well-formed message and none is a `pull`: the room then sends no reply frame. */
function pullsNothing(lines: readonly string[]): boolean {
	return lines.every((line) => {
		try {
			const message = JSON.parse(line) as unknown;
			return Array.isArray(message) && message[0] !== 'pull';
		} catch {
			return false;
		}
	});
}

test(`${FRAMES} mutated batches: each answered (or, pulling nothing, run unanswered), the room keeps serving, nothing forged reaches others`, async () => {
	const room = `open-fuzz-${Date.now()}`;
	let [attacker, victim] = await joinInTurn(worker, room, [{ user_id: 'fuzzer' }, { user_id: 'victim' }]);
	const started = Date.now();
	let sent = 0;
	let answered = 0;
	/** Batches the checks let through to capnweb (answered `r<id>`), so the fuzz reaches past them. */
	let ran = 0;
	let reconnects = 0;
	let next = 1;
	const sendOne = async () => {
		const id = next++;
		const lines = batchLines();
		sent++;
		const answered_ = attacker!.batch(id, lines);
		// A batch that pulls nothing gets no reply frame (only a refusal): a pulled call sent after it
		// is the fence; once that is answered, this one was either refused by then or ran unanswered.
		const fence = pullsNothing(lines) ? next++ : undefined;
		const settled =
			fence === undefined ? answered_ : attacker!.batch(fence, FENCE).then(() => Promise.race([answered_, Promise.resolve('ran unanswered' as const)]));
		const answer = await Promise.race([
			settled,
			attacker!.closed.then(() => 'closed' as const),
			new Promise<'silent'>((resolve) => setTimeout(() => resolve('silent'), 10_000)),
		]);
		if (answer === 'silent') throw new Error(`no answer to batch ${id} (seed ${SEED}):\n${lines.join('\n')}`);
		if (answer === 'closed') return;
		if (answer === 'ran unanswered') {
			answered++;
			ran++;
			return;
		}
		expect(answer.startsWith(`r${id}\n`) || answer.startsWith(`x${id}\n`)).toBe(true);
		answered++;
		if (answer.startsWith('r')) ran++;
	};
	while (sent < FRAMES && Date.now() - started < TIME_BUDGET_MS) {
		await Promise.all(Array.from({ length: IN_FLIGHT }, sendOne));
		// The room may close a socket (it never should here); come back and go on.
		if (attacker!.conn.socket.readyState !== WebSocket.OPEN) {
			reconnects++;
			attacker = await Probe.join(worker, room, { user_id: 'fuzzer' });
		}
	}
	console.log(`fuzz: ${sent} batches, ${answered} answered (${ran} ran), ${reconnects} reconnects, seed ${SEED}, ${Date.now() - started} ms`);
	expect(sent).toBeGreaterThanOrEqual(1_000);
	expect(answered).toBe(sent);
	expect(ran).toBeGreaterThan(sent / 20);
	expect(reconnects).toBe(0);

	await worker.rpc(room, 'broadcast', 'fuzz:done', { text: 'still here' });
	expect(await victim!.next('fuzz:done')).toEqual({ text: 'still here' });
	expect(await victim!.rpc.add(2, 3)).toBe(5);
	// Only what the room sends on its own account (presence, `post` broadcasts, `relay`) ever arrived.
	const forged = victim!
		.names()
		.filter((name) => !['session:list', 'session:connected', 'session:disconnected', 'chat:message', 'rich', 'fuzz:done'].includes(name));
	expect(forged).toEqual([]);
	const presence = victim!.events.filter((e) => e.name.startsWith('session:') && e.name !== 'session:list');
	expect(presence.every((e) => e.data.meta?.user_id === 'fuzzer')).toBe(true);
	expect((await worker.rpc<any[]>(room, 'getSessions')).map((s) => s.meta.user_id).sort()).toEqual(['fuzzer', 'victim']);
	await Promise.all([attacker!.close(), victim!.close()]);
}, 120_000);
