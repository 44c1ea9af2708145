/**
 * Bundling for workerd, as wrangler does: one ES module, packages' `workerd`/`worker` builds (capnweb
 * has one), the runtime's own modules (`cloudflare:workers`, `node:*`) left to it.
 */
export const FOR_WORKERD = {
	bundle: true,
	format: 'esm',
	platform: 'neutral',
	target: 'es2022',
	conditions: ['workerd', 'worker', 'import'],
	mainFields: ['module', 'main'],
	external: ['cloudflare:*', 'node:*'],
} as const;
