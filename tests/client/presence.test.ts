/**
 * The client's presence state (`Presence`, what `ws.sessions`, `ws.users` and `ws.presence` read):
 * a join or a leave costs O(1) however many are in the room — a client in a room of n must not
 * do n units of work per join, or a connect storm costs every client O(n²) — and the lists read
 * the same as before: arrival order, grace period for a user's last leave, no ghosts.
 */
import { describe, expect, test } from 'bun:test';
import { Presence } from '../../client/presence.js';
import { plainReactivity } from '../../client/reactivity.js';
import type { SessionInfo } from '../../rpc/types.js';
import { ManualClock } from '../support/manual-clock.js';

type Meta = { user_id: string; name: string };

/** A session whose meta counts every read of its fields: work done on it shows. */
function counted(id: string, user_id: string, reads: { n: number }): SessionInfo<Meta> {
	const meta = { user_id, name: `User ${user_id}` };
	const watched = new Proxy(meta, {
		get(target, key) {
			reads.n++;
			return target[key as keyof Meta];
		},
	});
	return { ws_session_id: id, meta: watched };
}

function presence(graceMs = 1_000) {
	const clock = new ManualClock();
	const state = new Presence<Meta>(clock, graceMs, plainReactivity, () => Promise.reject(new Error('no pages in full presence')));
	return { clock, state };
}

describe('client presence', () => {
	test('a join or leave touches none of the sessions already known (O(1) per join)', () => {
		const { state } = presence();
		const reads = { n: 0 };
		state.replace(Array.from({ length: 2_000 }, (_, i) => counted(`s${i}`, `u${i}`, reads)));
		// Someone reads the lists once, as a page renders them.
		expect(state.sessions.length).toBe(2_000);
		expect(state.users.length).toBe(2_000);
		const before = reads.n;

		for (let i = 2_000; i < 2_500; i++) state.add({ ws_session_id: `s${i}`, meta: { user_id: `u${i}`, name: `User ${i}` } });
		for (let i = 0; i < 100; i++) state.remove(`s${i}`);
		expect(reads.n - before).toBe(100); // each leave reads its own session's user_id, once

		// Read after the storm: built once, with everything in arrival order.
		expect(state.sessions.length).toBe(2_400);
		expect(state.sessions[0]!.ws_session_id).toBe('s100');
		expect(state.sessions.at(-1)!.ws_session_id).toBe('s2499');
		expect(state.view.count).toBe(2_400);
		expect(state.view.sessionCount).toBe(2_400);
	});

	test('joins and leaves after a list: each user counted once, the last leave of a user starts its grace', () => {
		const { clock, state } = presence(500);
		state.replace([
			{ ws_session_id: 'a1', meta: { user_id: 'ann', name: 'Ann' } },
			{ ws_session_id: 'a2', meta: { user_id: 'ann', name: 'Ann' } },
		]);
		state.add({ ws_session_id: 'a3', meta: { user_id: 'ann', name: 'Ann' } });
		state.remove('a1');
		state.remove('a2');
		expect(state.users.map((u) => [u.user_id, u.sessions.length])).toEqual([['ann', 1]]);
		state.remove('a3');
		expect(state.users.map((u) => [u.user_id, u.sessions.length])).toEqual([['ann', 0]]);
		clock.advance(500);
		expect(state.users).toEqual([]);
	});

	test('window presence: an update touches only the sessions it names, however many are known (O(1) per update)', () => {
		const { clock, state } = presence(500);
		const reads = { n: 0 };
		// 2,000 sessions known, as a window and the pages loaded with `more()` since would hold them.
		const known = Array.from({ length: 2_000 }, (_, i) => counted(`s${i}`, `u${i}`, reads));
		state.replace(known, { users: 5_000, sessions: 5_000, next: 's1999' });
		expect(state.view.members.length).toBe(2_000);
		const before = reads.n;
		const count = (n: number) => ({ users: n, sessions: n });

		state.update({ ...count(5_001), joined: { ws_session_id: 'j', meta: { user_id: 'uj', name: 'Jo' } } });
		state.update({ ...count(5_000), left: 's0', gone: 'u0' });
		// s5 moves into the window: known already (paged in), so it keeps its place.
		state.update({ ...count(4_999), left: 's1', gone: 'u1', entered: [{ ws_session_id: 's5', meta: { user_id: 'u5', name: 'User u5' } }] });
		// Someone nobody here paged in leaves: nothing known is looked at.
		for (let i = 0; i < 500; i++) state.update({ ...count(4_998 - i), gone: `far${i}` });
		expect(reads.n - before).toBe(3); // the user_id of each session named: the two that left, the one that moved in

		expect(state.view.sessionCount).toBe(4_499);
		const ids = state.sessions.map((s) => s.ws_session_id);
		expect(ids.slice(0, 4)).toEqual(['s2', 's3', 's4', 's5']);
		expect(ids.at(-1)).toBe('j');
		expect(ids.length).toBe(1_999);
		// The two who left are in their grace period; after it, gone.
		expect(state.users.slice(-2).map((u) => [u.user_id, u.sessions.length])).toEqual([
			['u0', 0],
			['u1', 0],
		]);
		clock.advance(500);
		expect(state.users.length).toBe(1_999);
	});

	test("window presence: a member gone takes all of its sessions known here; the window's moves keep places", () => {
		const { state } = presence(500);
		const session = (id: string, user_id: string) => ({ ws_session_id: id, meta: { user_id, name: user_id } });
		state.replace([session('a1', 'ann'), session('b1', 'bob'), session('a2', 'ann'), session('c1', 'cy')], { users: 9, sessions: 12, next: 'c1' });
		state.update({ users: 8, sessions: 10, gone: 'ann' });
		expect(state.sessions.map((s) => s.ws_session_id)).toEqual(['b1', 'c1']);
		expect(state.users.map((u) => [u.user_id, u.sessions.length])).toEqual([
			['bob', 1],
			['cy', 1],
			['ann', 0],
		]);
		// Bob's second tab joins; Cy, known already, enters the window again: in place, once.
		state.update({ users: 8, sessions: 11, joined: session('b2', 'bob'), entered: [session('c1', 'cy')] });
		expect(state.sessions.map((s) => s.ws_session_id)).toEqual(['b1', 'c1', 'b2']);
		expect(state.view.members.map((m) => [m.id, m.sessions.length])).toEqual([
			['bob', 2],
			['cy', 1],
		]);
	});

	test('lists are built once per change, not once per read', () => {
		const { state } = presence();
		state.replace([{ ws_session_id: 'a', meta: { user_id: 'u1', name: 'Ann' } }]);
		expect(state.sessions).toBe(state.sessions);
		expect(state.users).toBe(state.users);
		const users = state.users;
		state.add({ ws_session_id: 'b', meta: { user_id: 'u2', name: 'Bob' } });
		expect(state.users).not.toBe(users);
		expect(state.users.map((u) => u.user_id)).toEqual(['u1', 'u2']);
	});

	test("a user's last session leaving starts the grace period; coming back within it ends it; after it, the user is gone", () => {
		const { clock, state } = presence(1_000);
		state.replace([
			{ ws_session_id: 'a1', meta: { user_id: 'ann', name: 'Ann' } },
			{ ws_session_id: 'a2', meta: { user_id: 'ann', name: 'Ann' } },
			{ ws_session_id: 'b1', meta: { user_id: 'bob', name: 'Bob' } },
		]);
		state.remove('a1');
		expect(state.users.map((u) => [u.user_id, u.sessions.length])).toEqual([
			['ann', 1],
			['bob', 1],
		]);
		state.remove('a2');
		// Still listed, with no sessions, while in the grace period.
		expect(state.users.map((u) => [u.user_id, u.sessions.length])).toEqual([
			['bob', 1],
			['ann', 0],
		]);
		state.add({ ws_session_id: 'a3', meta: { user_id: 'ann', name: 'Ann' } });
		clock.advance(2_000);
		expect(state.users.map((u) => [u.user_id, u.sessions.length])).toEqual([
			['bob', 1],
			['ann', 1],
		]);
		state.remove('b1');
		clock.advance(999);
		expect(state.users.map((u) => u.user_id)).toEqual(['ann', 'bob']);
		clock.advance(1);
		expect(state.users.map((u) => u.user_id)).toEqual(['ann']);
	});

	test('a repeated announcement replaces in place; a fresh list replaces everything, users missing from it start their grace', () => {
		const { clock, state } = presence(500);
		state.replace([
			{ ws_session_id: 'a', meta: { user_id: 'ann', name: 'Ann' } },
			{ ws_session_id: 'b', meta: { user_id: 'bob', name: 'Bob' } },
		]);
		const before = state.sessions;
		state.add({ ws_session_id: 'a', meta: { user_id: 'ann', name: 'Ann' } });
		expect(state.sessions).toBe(before); // nothing changed, nothing rebuilt
		state.add({ ws_session_id: 'a', meta: { user_id: 'ann', name: 'Ann B.' } });
		expect(state.sessions.map((s) => [s.ws_session_id, s.meta.name])).toEqual([
			['a', 'Ann B.'],
			['b', 'Bob'],
		]);

		state.replace([{ ws_session_id: 'c', meta: { user_id: 'cy', name: 'Cy' } }]);
		expect(state.sessions.map((s) => s.ws_session_id)).toEqual(['c']);
		expect(state.users.map((u) => [u.user_id, u.sessions.length])).toEqual([
			['cy', 1],
			['ann', 0],
			['bob', 0],
		]);
		clock.advance(500);
		expect(state.users.map((u) => u.user_id)).toEqual(['cy']);
		state.clear();
		expect(state.sessions).toEqual([]);
		expect(state.users).toEqual([]);
	});
});
