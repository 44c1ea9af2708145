/**
 * `bun test` preload (see bunfig.toml): rune modules compile with Svelte's client runtime, so tests
 * exercise real reactivity (`$state`, `$derived`, `$effect.root`).
 */
import { plugin } from 'bun';
import { svelteModules } from './svelte-plugin.js';

plugin(svelteModules({ generate: 'client' }));
