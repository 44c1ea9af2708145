/**
 * Headers between the Vite plugin (Node) and the dev rooms Worker (workerd). Only the plugin talks
 * to that Worker, on 127.0.0.1, and every request carries the per-process secret.
 */

/** The plugin's secret, which the dev rooms Worker has as its `DELIGHTSTACK_DEV_SECRET` binding. */
export const DEV_SECRET_HEADER = 'x-delightstack-dev-secret';
/** The binding (of the dev rooms Worker) whose room gets the socket. */
export const DEV_BINDING_HEADER = 'x-delightstack-dev-binding';
/** A 401/403 (or the wire version's 426) from the app's handle, for the Worker to deliver as 4401/4403/4426. */
export const DEV_REFUSAL_HEADER = 'x-delightstack-dev-refusal';
/** The binding through which the dev rooms Worker knows the plugin's secret. */
export const DEV_SECRET_BINDING = 'DELIGHTSTACK_DEV_SECRET';
