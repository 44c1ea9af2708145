/**
 * `@delightstack/websocket/adapter`: puts the room classes into the Worker adapter-cloudflare writes,
 * and, under `vite dev`, the dev rooms into `platform.env`.
 */
import type { Adapter, Builder } from '@sveltejs/kit';
import { appendFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import { devBridge } from '../kit/dev-bridge.js';

/**
 * The app's Durable Object classes and the modules that export them: class name → path, relative
 * to the project root (where `vite` runs). `{ ChatRoom: 'src/lib/server/room.ts' }`.
 */
export type RoomModules = Readonly<Record<string, string>>;

/** Where {@link withRooms} keeps its {@link RoomModules} on the adapter, for the Vite plugin to read. */
export const ROOM_MODULES: unique symbol = Symbol.for('@delightstack/websocket/room-modules') as never;

/** An adapter wrapped by {@link withRooms}. */
export type AdapterWithRooms = Adapter & { readonly [ROOM_MODULES]: RoomModules };

export interface WithRoomsOptions {
	/**
	 * The Worker file the adapter writes, when it cannot be seen being written (an adapter other than
	 * adapter-cloudflare). @default what adapter-cloudflare writes: wrangler's `main`, or
	 * `.svelte-kit/cloudflare/_worker.js`
	 */
	worker?: string;
}

/**
 * Wraps adapter-cloudflare so that the Worker it writes also exports your room classes: wrangler
 * only binds Durable Objects that the Worker's entry module exports ("Durable Objects … not exported
 * in your entrypoint"), and the adapter has no option for extra exports. wrangler bundles the room
 * modules (TypeScript included) along with the app.
 *
 * ```js
 * // svelte.config.js
 * import adapter from '@sveltejs/adapter-cloudflare';
 * import { withRooms } from '@delightstack/websocket/adapter';
 *
 * export default {
 *   kit: { adapter: withRooms(adapter(), { ChatRoom: 'src/lib/server/room.ts' }) },
 * };
 * ```
 *
 * Under `vite dev`, with the plugin from `@delightstack/websocket/vite`, `platform.env` also gets the
 * dev rooms' bindings (`platform.env.WS`), so server code reaches the same rooms the browser's
 * socket does. A room module is bundled for workerd on its own: it may import packages, relative
 * modules and `$lib/…`, not `$app/…` or `$env/…`.
 */
export function withRooms(adapter: Adapter, rooms: RoomModules, options: WithRoomsOptions = {}): AdapterWithRooms {
	const names = Object.keys(rooms);
	if (names.length === 0) throw new TypeError('withRooms: name at least one room class, e.g. { ChatRoom: "src/lib/server/room.ts" }');
	for (const name of names) {
		if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new TypeError(`withRooms: "${name}" is not a class name`);
	}
	const emulate = adapter.emulate;
	let explained = false;
	return {
		...adapter,
		[ROOM_MODULES]: rooms,
		async adapt(builder) {
			let written = options.worker;
			// adapter-cloudflare copies its worker template (`files/worker.js`) to wherever the Worker
			// goes (wrangler's `main`, or its default): watching that copy finds the file without
			// reading wrangler's configuration a second time, possibly differently.
			const watched = new Proxy(builder, {
				get(target, key, receiver) {
					if (key !== 'copy') return Reflect.get(target, key, receiver);
					return (from: string, to: string, opts?: Parameters<Builder['copy']>[2]) => {
						if (options.worker === undefined && basename(from) === 'worker.js') written = to;
						return target.copy(from, to, opts);
					};
				},
			});
			await adapter.adapt(watched);
			if (written === undefined) {
				throw new Error(`withRooms: could not tell which file ${adapter.name} wrote the Worker to; pass { worker: '<path>' }`);
			}
			const worker = resolve(written);
			const lines = names.map((name) => {
				const module = isAbsolute(rooms[name]!) ? rooms[name]! : resolve(rooms[name]!);
				let from = relative(dirname(worker), module).split('\\').join('/');
				if (!from.startsWith('.')) from = `./${from}`;
				return `export { ${name} } from ${JSON.stringify(from)};`;
			});
			appendFileSync(worker, `\n// Added by withRooms (@delightstack/websocket/adapter): the rooms' Durable Object classes.\n${lines.join('\n')}\n`);
			builder.log.minor(`withRooms: ${names.join(', ')} exported from ${relative(process.cwd(), worker)}`);
		},
		async emulate() {
			const inner = await emulate?.call(adapter);
			return {
				async platform(details) {
					const platform = (await inner?.platform?.(details)) ?? ({} as App.Platform);
					const bridge = devBridge();
					if (!bridge || details.prerender) return platform;
					// The dev rooms (started by the Vite plugin) replace whatever the platform proxy made of
					// the same bindings: a Durable Object of the app's own Worker, which it cannot run.
					await bridge.ready;
					if (!explained) {
						explained = true;
						// adapter-cloudflare's platform proxy has just warned that the rooms "will not work in
						// local development": true of its own copy, which is replaced here.
						console.info(
							`[@delightstack/websocket] platform.env.${Object.keys(bridge.env).join(', ')}: the dev rooms (local workerd), not the platform proxy's`,
						);
					}
					const { env } = platform as { env?: Record<string, unknown> };
					return { ...platform, env: { ...env, ...bridge.env } } as App.Platform;
				},
			};
		},
	};
}
