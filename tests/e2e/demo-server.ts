/**
 * Builds the demo and serves it with `wrangler dev` on 127.0.0.1 (a free port, throwaway storage),
 * the way `scripts/demo.sh` does, for the browser tests; and a network link a test can cut.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readyLine, stopProcessGroup } from '../support/process.js';

const root = join(import.meta.dir, '..', '..');

export interface DemoServer {
	/** `http://127.0.0.1:<port>` */
	origin: string;
	stop(): Promise<void>;
}

/** `scripts/build-demo.sh`: package build, link, SvelteKit + adapter-cloudflare build. */
export function buildDemo(timeoutMs = 240_000): void {
	const result = spawnSync(join(root, 'scripts', 'build-demo.sh'), { cwd: root, encoding: 'utf8', timeout: timeoutMs });
	if (result.status !== 0) {
		throw new Error(`build-demo.sh failed (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
	}
}

/** Starts `wrangler dev` on a free port and resolves once it is ready. */
export async function startDemo(readyTimeoutMs = 60_000): Promise<DemoServer> {
	const state = mkdtempSync(join(tmpdir(), 'demo-state-'));
	const child = spawn(
		join(root, 'node_modules', '.bin', 'wrangler'),
		['dev', '--ip', '127.0.0.1', '--port', '0', '--inspector-port', '0', '--persist-to', state, '--show-interactive-dev-session=false', '--log-level', 'info'],
		{ cwd: join(root, 'demo'), env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
	);
	const origin = await readyLine(child, 'wrangler dev', /Ready on (http:\/\/127\.0\.0\.1:\d+)/, readyTimeoutMs);
	return {
		origin,
		stop: async () => {
			// wrangler and the workerd it started: its process group.
			await stopProcessGroup(child);
			rmSync(state, { recursive: true, force: true });
		},
	};
}

/**
 * A TCP proxy in front of the demo, standing for one person's network: `cut()` drops every
 * connection through it (sockets and HTTP alike, wherever in the browser they were opened: page or
 * SharedWorker) and refuses new ones until `restore()`. Both ends see the connections die, as when
 * a laptop loses its network.
 */
export interface NetworkLink {
	/** `http://127.0.0.1:<port>`: the demo, reached through this link. */
	origin: string;
	cut(): void;
	restore(): void;
	close(): Promise<void>;
}

export async function startNetworkLink(target: string): Promise<NetworkLink> {
	const { hostname, port } = new URL(target);
	const open = new Set<Socket>();
	let down = false;
	const server = createServer((client) => {
		if (down) return void client.destroy();
		const upstream = connect(Number(port), hostname);
		open.add(client).add(upstream);
		const drop = () => {
			client.destroy();
			upstream.destroy();
			open.delete(client);
			open.delete(upstream);
		};
		for (const socket of [client, upstream]) {
			socket.on('error', drop);
			socket.on('close', drop);
		}
		client.pipe(upstream);
		upstream.pipe(client);
	});
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => resolve());
	});
	const address = server.address() as AddressInfo;
	const cut = () => {
		down = true;
		for (const socket of open) socket.destroy();
		open.clear();
	};
	return {
		origin: `http://127.0.0.1:${address.port}`,
		cut,
		restore: () => void (down = false),
		close: () => {
			cut();
			return new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}
