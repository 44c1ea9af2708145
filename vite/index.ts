/**
 * `@delightstack/websocket/vite`: rooms under `vite dev`.
 *
 * Under `vite dev` the app runs in Node, not in workerd, and Vite answers no WebSocket upgrade but
 * its own HMR socket, so a browser's `connect()` would wait forever. This plugin runs the app's room
 * classes in local workerd (Miniflare, from the app's own wrangler) and opens each socket into them
 * after asking the app's own handle who it is:
 *
 * 1. a browser's upgrade to the socket path (`/api/websocket`) reaches the plugin;
 * 2. the plugin sends its cookies, `Origin` and `Host` to the same path as a plain request marked
 *    with this process's secret; the app's `createWebsocketHandle` runs every check it runs in
 *    production (origin, room name, `authorize`, `getServer`) and answers with the handoff it would
 *    have sent the room, or its refusal;
 * 3. the plugin opens the socket into the room in workerd with that handoff (a 401/403/426 becomes
 *    close code 4401/4403/4426 there, as in production); frames then flow straight through.
 *
 * With `withRooms` (`@delightstack/websocket/adapter`) in svelte.config.js, `platform.env` gets the
 * same rooms' bindings, so server code (`room.broadcast(…)`, your own methods) reaches the rooms
 * the browsers are in. Bindings, compatibility date and flags and `vars` come from the app's
 * wrangler configuration; a room module that changes is rebuilt and reloaded.
 */
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createRequire } from 'node:module';
import type { AddressInfo, Socket } from 'node:net';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Plugin, ViteDevServer } from 'vite';
import { DEV_SOCKET_REFUSAL_HEADER, DEV_AUTHORIZE_HEADER, openDevBridge, type DevAuthorization, type DevBridge } from '../kit/dev-bridge.js';
import type { RefusalBody } from '../kit/refusal.js';
import { DEFAULT_WEBSOCKET_PATH } from '../kit/upgrade.js';
import { HANDOFF_HEADER } from '../rpc/protocol.js';
import { ROOM_MODULES, type RoomModules } from './adapter.js';
import { FOR_WORKERD } from './workerd-bundle.js';
import { DEV_BINDING_HEADER, DEV_REFUSAL_HEADER, DEV_SECRET_BINDING, DEV_SECRET_HEADER } from './dev-headers.js';

export type { RoomModules } from './adapter.js';

export interface RoomsPluginOptions {
	/**
	 * The room classes and their modules. @default those given to `withRooms` in svelte.config.js
	 */
	rooms?: RoomModules;
	/** The socket path, as given to `createWebsocketHandle`. @default '/api/websocket' */
	path?: string;
	/** The wrangler configuration to read bindings from. @default wrangler.jsonc / .json / .toml in the project root */
	configPath?: string;
}

/**
 * Serves the app's rooms under `vite dev` (and does nothing in `vite build`).
 *
 * ```ts
 * // vite.config.ts
 * import { sveltekit } from '@sveltejs/kit/vite';
 * import { rooms } from '@delightstack/websocket/vite';
 * import { defineConfig } from 'vite';
 *
 * export default defineConfig({ plugins: [sveltekit(), rooms()] });
 * ```
 *
 * Everything it starts listens on 127.0.0.1 only, and only the dev server can open sockets into it.
 */
export function rooms(options: RoomsPluginOptions = {}): Plugin {
	const path = options.path ?? DEFAULT_WEBSOCKET_PATH;
	let devRooms: DevRooms | undefined;
	return {
		name: '@delightstack/websocket:rooms',
		apply: 'serve',
		configureServer(server) {
			const { httpServer } = server;
			if (!httpServer) {
				server.config.logger.warn('[@delightstack/websocket] no HTTP server (middleware mode): sockets cannot reach the rooms under vite dev');
				return;
			}
			const bridge = openDevBridge();
			devRooms = new DevRooms(server, bridge, options);
			bridge.ready = devRooms.start();
			// Failing to start is reported to every socket and request that needs the rooms; it must not
			// also be an unhandled rejection that takes the dev server down.
			bridge.ready.catch((error: unknown) => server.config.logger.error(`[@delightstack/websocket] the dev rooms did not start: ${String(error)}`));
			httpServer.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
				if (new URL(req.url ?? '/', 'http://x').pathname !== path) return; // Vite's own (HMR) or another plugin's
				devRooms!.open(req, socket, head).catch((error: unknown) => {
					server.config.logger.error(`[@delightstack/websocket] ${String(error)}`);
					answer(socket, 502, 'application/json', JSON.stringify({ status: 502, code: 'room_unavailable', message: 'The dev rooms could not be reached' }));
				});
			});
			httpServer.once('close', () => void devRooms?.stop());
		},
		async closeBundle() {
			await devRooms?.stop();
		},
	};
}

/** What the plugin needs of Miniflare (resolved from the app's own wrangler, not bundled here). */
interface MiniflareLike {
	ready: Promise<URL>;
	setOptions(options: object): Promise<void>;
	getDurableObjectNamespace(binding: string): Promise<unknown>;
	dispose(): Promise<void>;
}

interface WranglerConfig {
	compatibility_date?: string;
	compatibility_flags?: string[];
	vars?: Record<string, unknown>;
	durable_objects?: { bindings?: { name: string; class_name: string; script_name?: string }[] };
	migrations?: { new_sqlite_classes?: string[]; new_classes?: string[] }[];
}

interface EsbuildPluginBuild {
	onResolve(options: { filter: RegExp }, callback: (args: { path: string; kind: string }) => Promise<{ path: string } | { errors: unknown[] }>): void;
	resolve(path: string, options: { resolveDir: string; kind: string }): Promise<{ path: string; errors: unknown[] }>;
}

interface EsbuildLike {
	build(options: object): Promise<{ outputFiles: { text: string }[]; metafile: { inputs: Record<string, unknown> } }>;
}

/** The rooms Worker of one dev server. */
class DevRooms {
	readonly #server: ViteDevServer;
	readonly #bridge: DevBridge;
	readonly #options: RoomsPluginOptions;
	readonly #root: string;
	#mf: MiniflareLike | undefined;
	#url: URL | undefined;
	#bindings: string[] = [];
	/** Absolute paths of the files the rooms bundle was built from: a change to one rebuilds it. */
	#inputs = new Set<string>();
	#workerOptions: object = {};
	#esbuild: EsbuildLike | undefined;
	#buildEntry: (() => Promise<string>) | undefined;

	constructor(server: ViteDevServer, bridge: DevBridge, options: RoomsPluginOptions) {
		this.#server = server;
		this.#bridge = bridge;
		this.#options = options;
		this.#root = server.config.root;
	}

	async start(): Promise<void> {
		const fromApp = createRequire(join(this.#root, 'package.json'));
		const wranglerPath = fromApp.resolve('wrangler');
		const fromWrangler = createRequire(wranglerPath);
		const wrangler = (await import(pathToFileURL(wranglerPath).href)) as {
			unstable_readConfig(args: { config?: string }): WranglerConfig;
		};
		const { Miniflare } = (await import(pathToFileURL(fromWrangler.resolve('miniflare')).href)) as {
			Miniflare: new (options: object) => MiniflareLike;
		};
		this.#esbuild = (await import(pathToFileURL(fromWrangler.resolve('esbuild')).href)) as EsbuildLike;

		const modules = this.#options.rooms ?? (await roomsFromSvelteConfig(this.#root));
		const config = wrangler.unstable_readConfig({ config: this.#options.configPath && resolve(this.#root, this.#options.configPath) });
		const sqlite = new Set((config.migrations ?? []).flatMap((m) => m.new_sqlite_classes ?? []));
		const durableObjects: Record<string, { className: string; useSQLite: boolean }> = {};
		for (const binding of config.durable_objects?.bindings ?? []) {
			if (binding.script_name === undefined && Object.hasOwn(modules, binding.class_name)) {
				durableObjects[binding.name] = { className: binding.class_name, useSQLite: sqlite.has(binding.class_name) };
			}
		}
		this.#bindings = Object.keys(durableObjects);
		if (this.#bindings.length === 0) {
			throw new Error(
				`no Durable Object binding in the wrangler configuration names ${Object.keys(modules).join(' or ')} ` +
					'(add "durable_objects": { "bindings": [{ "name": "WS", "class_name": "…" }] })',
			);
		}

		const devWorker = fileURLToPath(new URL('./dev-worker.js', import.meta.url));
		const entry = [
			...Object.entries(modules).map(
				([name, module]) => `export { ${name} } from ${JSON.stringify(isAbsolute(module) ? module : resolve(this.#root, module))};`,
			),
			`export { default } from ${JSON.stringify(devWorker)};`,
		].join('\n');
		this.#buildEntry = () => this.#bundle(entry);

		this.#workerOptions = {
			name: 'delightstack-websocket-dev-rooms',
			modules: true,
			compatibilityDate: config.compatibility_date ?? '2026-04-20',
			compatibilityFlags: config.compatibility_flags ?? [],
			durableObjects,
			bindings: { ...(config.vars ?? {}), [DEV_SECRET_BINDING]: this.#bridge.secret },
			// Rooms keep their storage across restarts of the dev server, as under `wrangler dev`.
			durableObjectsPersist: join(this.#root, '.wrangler', 'state', 'delightstack-websocket-dev'),
			host: '127.0.0.1',
			port: 0,
		};
		this.#mf = new Miniflare({ ...this.#workerOptions, script: await this.#buildEntry() });
		this.#url = await this.#mf.ready;
		await this.#refreshEnv();

		this.#server.watcher.on('change', (file) => {
			if (this.#inputs.has(resolve(file))) void this.#reload(file);
		});
		this.#server.config.logger.info(`  [@delightstack/websocket] rooms ${this.#bindings.join(', ')} in local workerd at ${this.#url.origin}`, {
			timestamp: true,
		});
	}

	async stop(): Promise<void> {
		const mf = this.#mf;
		this.#mf = undefined;
		await mf?.dispose();
	}

	/** Opens a browser's socket into its room, or answers with the app's refusal. */
	async open(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
		await this.#bridge.ready;
		const asked = await this.#askApp(req);
		if (asked.status === 200) {
			const { handoff, binding } = JSON.parse(asked.body) as DevAuthorization;
			this.#pipe(req, socket, head, {
				[HANDOFF_HEADER]: handoff,
				[DEV_BINDING_HEADER]: binding ?? this.#bindings[0]!,
			});
		} else if (asked.socketRefusal) {
			// `authorize` (or the wire version) said no: delivered as close code 4401/4403/4426 by
			// workerd, as in production.
			const body = JSON.parse(asked.body) as RefusalBody;
			this.#pipe(req, socket, head, { [DEV_REFUSAL_HEADER]: JSON.stringify(body) });
		} else {
			answer(socket, asked.status, asked.contentType, asked.body);
		}
	}

	/** Bundles the rooms for workerd, as wrangler would: the room modules plus the dev front. */
	async #bundle(entry: string): Promise<string> {
		const lib = join(this.#root, 'src', 'lib');
		const result = await this.#esbuild!.build({
			stdin: { contents: entry, resolveDir: this.#root, sourcefile: 'delightstack-dev-rooms.js', loader: 'js' },
			...FOR_WORKERD,
			write: false,
			metafile: true,
			logLevel: 'error',
			plugins: [
				{
					// SvelteKit's `$lib` alias, so a room module may import what the app's other modules do.
					name: 'sveltekit-lib-alias',
					setup(build: EsbuildPluginBuild) {
						build.onResolve({ filter: /^\$lib(\/|$)/ }, async (args) => {
							// esbuild's own resolution from src/lib: `$lib/x.js` finds x.ts, as it does in the app.
							const found = await build.resolve(`./${args.path.slice('$lib/'.length)}`, { resolveDir: lib, kind: args.kind });
							return found.errors.length > 0 ? { errors: found.errors } : { path: found.path };
						});
					},
				},
			],
		});
		this.#inputs = new Set(Object.keys(result.metafile.inputs).map((input) => resolve(this.#root, input)));
		return result.outputFiles[0]!.text;
	}

	async #reload(file: string): Promise<void> {
		try {
			const script = await this.#buildEntry!();
			await this.#mf?.setOptions({ ...this.#workerOptions, script, port: Number(this.#url!.port) });
			await this.#refreshEnv();
			this.#server.config.logger.info(`  [@delightstack/websocket] rooms reloaded (${file})`, { timestamp: true });
		} catch (error) {
			this.#server.config.logger.error(`[@delightstack/websocket] rooms not reloaded: ${String(error)}`);
		}
	}

	/** `platform.env`'s bindings: a reload ends the previous ones, so they are fetched again. */
	async #refreshEnv(): Promise<void> {
		const env: Record<string, unknown> = {};
		for (const binding of this.#bindings) env[binding] = await this.#mf!.getDurableObjectNamespace(binding);
		this.#bridge.env = env;
	}

	/**
	 * Asks the app's handle, over loopback to this very dev server, what it would do with this
	 * upgrade: the same headers as a plain GET, marked with the process's secret.
	 */
	#askApp(req: IncomingMessage): Promise<{ status: number; contentType: string; body: string; socketRefusal: boolean }> {
		const headers: Record<string, string | string[]> = {};
		for (const [name, value] of Object.entries(req.headers)) {
			if (value === undefined || /^(upgrade|connection|sec-websocket-.*)$/i.test(name)) continue;
			headers[name] = value;
		}
		headers[DEV_AUTHORIZE_HEADER] = this.#bridge.secret;
		headers.accept = 'application/json';
		const address = this.#server.httpServer!.address() as AddressInfo;
		const host = address.address === '::' || address.address === '0.0.0.0' ? '127.0.0.1' : address.address;
		const secure = Boolean(this.#server.config.server.https);
		const send = secure ? httpsRequest : httpRequest;
		return new Promise((done, fail) => {
			const asking = send({ host, port: address.port, path: req.url, method: 'GET', headers, rejectUnauthorized: false }, (res) => {
				const chunks: Buffer[] = [];
				res.on('data', (chunk: Buffer) => chunks.push(chunk));
				res.on('end', () =>
					done({
						status: res.statusCode ?? 502,
						contentType: String(res.headers['content-type'] ?? 'text/plain'),
						body: Buffer.concat(chunks).toString(),
						socketRefusal: res.headers[DEV_SOCKET_REFUSAL_HEADER] === '1',
					}),
				);
				res.on('error', fail);
			});
			asking.on('error', fail);
			asking.end();
		});
	}

	/** Forwards the upgrade to the rooms Worker with `extra` headers, then joins the two sockets. */
	#pipe(req: IncomingMessage, socket: Socket, head: Buffer, extra: Record<string, string>): void {
		const upstream = httpRequest({
			host: this.#url!.hostname,
			port: this.#url!.port,
			path: req.url,
			method: 'GET',
			headers: { ...req.headers, ...extra, [DEV_SECRET_HEADER]: this.#bridge.secret },
		});
		upstream.on('upgrade', (res: IncomingMessage, room: Socket, roomHead: Buffer) => {
			const lines = [`HTTP/1.1 101 ${STATUS_CODES[101]}`];
			for (let i = 0; i < res.rawHeaders.length; i += 2) lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
			socket.write(`${lines.join('\r\n')}\r\n\r\n`);
			if (roomHead.length > 0) socket.write(roomHead);
			if (head.length > 0) room.write(head);
			room.pipe(socket);
			socket.pipe(room);
			const end = () => {
				room.destroy();
				socket.destroy();
			};
			room.on('error', end).on('close', end);
			socket.on('error', end).on('close', end);
		});
		upstream.on('response', (res: IncomingMessage) => {
			const chunks: Buffer[] = [];
			res.on('data', (chunk: Buffer) => chunks.push(chunk));
			res.on('end', () => answer(socket, res.statusCode ?? 502, String(res.headers['content-type'] ?? 'text/plain'), Buffer.concat(chunks).toString()));
		});
		upstream.on('error', (error) => {
			this.#server.config.logger.error(`[@delightstack/websocket] the dev rooms could not be reached: ${String(error)}`);
			answer(socket, 502, 'application/json', JSON.stringify({ status: 502, code: 'room_unavailable', message: 'The room could not be reached; try again' }));
		});
		upstream.end();
	}
}

/** Answers an upgrade with a plain HTTP response (a refusal) and closes the connection. */
function answer(socket: Socket, status: number, contentType: string, body: string): void {
	if (socket.destroyed) return;
	const bytes = Buffer.from(body);
	socket.end(
		`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: ${contentType}\r\ncontent-length: ${bytes.length}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`,
	);
}

/** The room modules `withRooms` was given in the app's svelte.config.js. */
async function roomsFromSvelteConfig(root: string): Promise<RoomModules> {
	const file = join(root, 'svelte.config.js');
	const config = ((await import(pathToFileURL(file).href)) as { default?: { kit?: { adapter?: { [ROOM_MODULES]?: RoomModules } } } }).default;
	const modules = config?.kit?.adapter?.[ROOM_MODULES];
	if (!modules) {
		throw new Error(
			`${file} does not wrap its adapter in withRooms(…) from @delightstack/websocket/adapter; ` +
				'do that, or name the rooms here: rooms({ rooms: { ChatRoom: "src/lib/server/room.ts" } })',
		);
	}
	return modules;
}
