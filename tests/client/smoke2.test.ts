import { test } from 'bun:test';
import * as s from 'svelte';
test('which', () => { console.log(s.flushSync.toString().slice(0, 200)); });
