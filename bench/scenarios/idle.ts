/**
 * The two idle scenarios, both on the counted rooms (`worker.ts`: each counts its constructions and
 * handler calls in module scope, read at `/counters/<room>` without waking the room). Every
 * implementation idles side by side in its own rooms, so one idle serves all of them; sockets join
 * one at a time, one client process per implementation, started one after the other (locally, a
 * room whose sockets arrived through overlapping upgrades was never evicted).
 *
 * - `eviction`: `evictionRooms` rooms per implementation, `evictionSockets` each (1 unless told;
 *   in our counted room each socket is a user of its own, see `bench/worker/index.ts`), a
 *   few warm calls from each room's first socket, then
 *   `evictionIdleMs` of silence (workerd evicts an idle room after about 10 s). Then, one
 *   implementation after the other (order alternating run by run), each room's first call — which
 *   the runtime must deliver to a freshly constructed room — and warm calls after it. Eviction is
 *   confirmed by the constructor count going up by exactly one; if it did not, the "first call"
 *   was a warm one and the run fails.
 * - Both: before the measured first calls, a primer (one socket in a room of its own, which
 *   idled and was evicted too) makes its first call, not measured. After an idle the first room
 *   woken in the process pays a warm-up of several milliseconds shared by every room: whichever
 *   implementation went first paid it (keep-alive, 60 s: ours first 11.8 ms against bare's 1.4;
 *   bare first 7.7 ms against ours' 3.1), so without the primer it landed on one side. The
 *   primer's room is of a class of its own (`PrimerRoom`): a primer of one implementation's class
 *   runs that side's code once after the idle, a warm-up the other sides' first rooms do not get
 *   (bench/README, *a primer of no side's class*).
 * - `keepalive`: `keepaliveSockets` sockets in one room per implementation ping every `pingEveryMs`
 *   for `keepaliveMs` (ours: `WebsocketClient`'s own keep-alive with `pingIntervalMs`; the
 *   baselines' sockets ping as often). Our `ping` is answered by the runtime
 *   (`setWebSocketAutoResponse`); the counted baselines set the same auto-response. Wake-ups = constructions + handler calls during
 *   the idle: must be 0. Every ping must get its pong. Afterwards one call per room must find it
 *   evicted (constructor count + 1): the pings did not keep it alive.
 */
import { ClientProcess } from '../driver/child.js';
import { RowCollector, orderFor, type Bench, type ScenarioResult } from '../context.js';
import type { Impl } from '../shared/impl.js';
import { median } from '../shared/stats.js';
import type { RoomCounts } from '../worker/counted.js';
import type { IdledMessage, IdleResult } from '../shared/wire.js';

/** The implementations with a counted room (`?variant=counted`). */
const COUNTED: readonly Impl[] = ['ours', 'bare', 'party'];

async function readCounts(bench: Bench, impl: Impl, room: string): Promise<RoomCounts> {
	const response = await fetch(`${bench.server.httpOrigin}/counters/${encodeURIComponent(room)}?impl=${impl}`, { signal: AbortSignal.timeout(5_000) });
	const counts = (await response.json()) as RoomCounts | null;
	if (!counts) throw new Error(`no counts for ${impl} room ${room}: did its sockets reach the counted room?`);
	return counts;
}

function wakeUps(before: RoomCounts, after: RoomCounts): number {
	return (
		after.constructed -
		before.constructed +
		(after.fetch - before.fetch) +
		(after.message - before.message) +
		(after.close - before.close) +
		(after.error - before.error)
	);
}

interface Side {
	impl: Impl;
	rooms: string[];
	client: ClientProcess;
}

/** One client process per implementation, each joined before the next starts. */
async function startSides(
	bench: Bench,
	impls: readonly Impl[],
	roomsFor: (impl: Impl) => string[],
	config: { perRoom: number; warmCalls: number; idleMs: number; pingEveryMs: number },
): Promise<Side[]> {
	const { options, server } = bench;
	const sides: Side[] = [];
	try {
		for (const impl of impls) {
			const rooms = roomsFor(impl);
			const client = new ClientProcess(
				{
					role: 'idle',
					impl,
					wsOrigin: server.wsOrigin,
					room: rooms[0]!,
					rooms,
					deflate: options.deflate,
					payloadBytes: options.payloadBytes,
					deadlineMs: config.idleMs + 120_000,
					...config,
				},
				bench.pinning.prefix,
				bench.clientBunArgs,
			);
			sides.push({ impl, rooms, client });
			await client.wait('ready', 60_000);
		}
		return sides;
	} catch (error) {
		await Promise.all(sides.map((s) => s.client.finish()));
		throw error;
	}
}

/** The primer: one socket in a room of the primer's own class, idling like the sides (see the header). */
async function startPrimer(bench: Bench, idleMs: number): Promise<Side> {
	const [primer] = await startSides(bench, ['primer'], () => [`primer-${Date.now()}`], { perRoom: 1, warmCalls: 4, idleMs, pingEveryMs: 0 });
	return primer!;
}

async function countsOf(bench: Bench, sides: readonly Side[]): Promise<Map<string, RoomCounts>> {
	const counts = new Map<string, RoomCounts>();
	for (const { impl, rooms } of sides) for (const room of rooms) counts.set(room, await readCounts(bench, impl, room));
	return counts;
}

/**
 * Lets every side idle for `idleMs` (its sockets pinging or not, as configured), then asks each for
 * its calls after the idle, one side at a time. The rooms' counts are read before, right after the
 * idle, and after the calls.
 */
async function idleThenCall(bench: Bench, sides: readonly Side[], primer: Side, idleMs: number) {
	const before = await countsOf(bench, sides);
	for (const side of [primer, ...sides]) side.client.say('go');
	const [, ...idled] = await Promise.all([primer, ...sides].map((s) => s.client.wait<IdledMessage>('idled', idleMs + 30_000)));
	const during = await countsOf(bench, sides);
	// The primer's first call takes the warm-up every room shares after an idle (see the header).
	primer.client.say('next');
	await primer.client.wait<IdleResult>('result', 60_000);
	const results: IdleResult[] = [];
	for (const side of sides) {
		await bench.window?.open(side.impl);
		side.client.say('next');
		results.push(await side.client.wait<IdleResult>('result', 60_000));
		await bench.window?.close(side.impl);
	}
	const after = await countsOf(bench, sides);
	return { before, idled, during, results, after };
}

export async function evictionScenario(bench: Bench): Promise<ScenarioResult> {
	const { options } = bench;
	const impls = options.impls.filter((impl) => COUNTED.includes(impl));
	const crowd = options.evictionSockets > 1 ? `, ${options.evictionSockets} sockets per room` : '';
	const scenario = `first call after eviction (idle ${(options.evictionIdleMs / 1000).toFixed(0)} s${crowd})`;
	const rows = new RowCollector(scenario);
	const raw: unknown[] = [];
	let faults = 0;
	for (let run = 0; run < options.evictionRuns; run++) {
		const order = orderFor(run, impls);
		const stamp = Date.now();
		const sides = await startSides(bench, order, (impl) => Array.from({ length: options.evictionRooms }, (_, k) => `evict-${impl}-${run}-${k}-${stamp}`), {
			perRoom: options.evictionSockets,
			warmCalls: 20,
			idleMs: options.evictionIdleMs,
			pingEveryMs: 0,
		});
		let primer: Side | undefined;
		try {
			bench.log(`${scenario} run ${run + 1}/${options.evictionRuns}: idling ${options.evictionIdleMs} ms`);
			primer = await startPrimer(bench, options.evictionIdleMs);
			const { before, idled, during, results, after } = await idleThenCall(bench, sides, primer, options.evictionIdleMs);
			for (const [i, { impl, rooms }] of sides.entries()) {
				const result = results[i]!;
				const evicted = rooms.filter((room) => after.get(room)!.constructed === during.get(room)!.constructed + 1).length;
				const woke = rooms.reduce((n, room) => n + wakeUps(before.get(room)!, during.get(room)!), 0);
				const bad = rooms.length - evicted + result.errors + idled[i]!.closed;
				faults += bad;
				const warm = median(result.warmMs);
				const first = median(result.firstCallMs);
				rows.add(impl, 'first call after eviction', 'ms', first);
				rows.add(impl, 'warm call (median)', 'ms', warm);
				rows.add(impl, 'first call ÷ warm call', '×', first / warm);
				rows.add(impl, 'rooms not evicted + errors', 'count', bad, 'max');
				raw.push({
					scenario,
					run,
					impl,
					rooms,
					...result,
					evicted,
					wakeUpsDuringIdle: woke,
					idled: idled[i],
					counts: rooms.map((room) => ({ room, before: before.get(room), during: during.get(room), after: after.get(room) })),
				});
				bench.log(
					`${scenario} run ${run + 1}/${options.evictionRuns} ${impl}: first call ${result.firstCallMs.map((ms) => ms.toFixed(2)).join(', ')} ms, warm ${warm.toFixed(3)} ms, evicted ${evicted}/${rooms.length}, faults ${bad}`,
				);
			}
		} finally {
			await Promise.all([...sides, ...(primer ? [primer] : [])].map((s) => s.client.finish()));
		}
	}
	return { rows: rows.rows(), raw, faults };
}

export async function keepaliveScenario(bench: Bench): Promise<ScenarioResult> {
	const { options } = bench;
	const impls = options.impls.filter((impl) => COUNTED.includes(impl));
	const scenario = `keep-alive over ${(options.keepaliveMs / 1000).toFixed(0)} s idle (${options.keepaliveSockets} sockets, ping every ${(options.pingEveryMs / 1000).toFixed(0)} s)`;
	const rows = new RowCollector(scenario);
	const raw: unknown[] = [];
	let faults = 0;
	const stamp = Date.now();
	const sides = await startSides(bench, impls, (impl) => [`keepalive-${impl}-${stamp}`], {
		perRoom: options.keepaliveSockets,
		warmCalls: 4,
		idleMs: options.keepaliveMs,
		pingEveryMs: options.pingEveryMs,
	});
	let primer: Side | undefined;
	try {
		bench.log(`${scenario}: idling ${options.keepaliveMs} ms with pings`);
		primer = await startPrimer(bench, options.keepaliveMs);
		const { before, idled, during, results, after } = await idleThenCall(bench, sides, primer, options.keepaliveMs);
		for (const [i, { impl, rooms }] of sides.entries()) {
			const room = rooms[0]!;
			const { pings, pongs, otherFrames, closed } = idled[i]!;
			const woke = wakeUps(before.get(room)!, during.get(room)!);
			const evicted = after.get(room)!.constructed === during.get(room)!.constructed + 1 ? 1 : 0;
			const unanswered = Math.max(0, pings - pongs);
			const bad = woke + unanswered + otherFrames + closed + (1 - evicted) + results[i]!.errors;
			faults += bad;
			rows.add(impl, 'wake-ups during the idle', 'count', woke, 'max');
			rows.add(impl, 'pings sent', 'count', pings);
			rows.add(impl, 'pings unanswered', 'count', unanswered, 'max');
			rows.add(impl, 'evicted during the idle (1 = yes)', 'count', evicted, 'min');
			rows.add(impl, 'first call after the idle', 'ms', results[i]!.firstCallMs[0]!);
			raw.push({
				scenario,
				impl,
				room,
				...idled[i],
				wakeUps: woke,
				evicted,
				counts: { before: before.get(room), during: during.get(room), after: after.get(room) },
				firstCallMs: results[i]!.firstCallMs,
				errors: results[i]!.errors,
			});
			bench.log(
				`${scenario} ${impl}: ${woke} wake-ups, ${pongs}/${pings} pongs, ${otherFrames} other frames, evicted ${evicted ? 'yes' : 'NO'}, faults ${bad}`,
			);
		}
	} finally {
		await Promise.all([...sides, ...(primer ? [primer] : [])].map((s) => s.client.finish()));
	}
	return { rows: rows.rows(), raw, faults };
}
