import { test, expect } from 'bun:test';
import { observe } from '../support/runes.svelte.js';
import { ManualClock } from '../support/manual-clock.js';
import { Presence } from '../../client/presence.svelte.js';
import { flushSync } from 'svelte';
test('smoke', () => {
  const p = new Presence<{user_id: string}>(new ManualClock(), 5000);
  const o = observe(() => p.sessions.map(s => s.ws_session_id).join(','));
  p.add({ws_session_id: 'a', meta: {user_id: 'u'}});
  flushSync();
  p.add({ws_session_id: 'b', meta: {user_id: 'u'}});
  flushSync();
  expect(o.values).toEqual(['', 'a', 'a,b']);
});
