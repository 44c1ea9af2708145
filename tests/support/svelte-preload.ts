/**
 * `bun test` preload (see bunfig.toml): rune modules compile with Svelte's client runtime, so tests
 * exercise real reactivity (`$state`, `$derived`, `$effect.root`).
 */
import { plugin } from 'bun';
import { svelteModules } from './svelte-plugin.js';

plugin(svelteModules({ generate: 'client' }));

// `NO_SHORTCUT=1 bun test …`: every call through capnweb sessions (see calls/shortcut/switch.ts),
// here and in the Workers the tests bundle (tests/support/workerd.ts).
if (process.env.NO_SHORTCUT === '1') (globalThis as { __delightstackNoShortcut?: boolean }).__delightstackNoShortcut = true;
