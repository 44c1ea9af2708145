/**
 * The plain protocol the baseline rooms speak (`bench/worker/baselines.ts`) with their plain
 * WebSocket clients (`bench/clients/sockets.ts`): the least that does the job. A text frame
 * starting with `b` is broadcast as received to every socket (the sender included); any other
 * frame is echoed.
 *
 * And the keep-alive pair: our client sends `ping` and our room's runtime answers `pong`
 * (`setWebSocketAutoResponse`) without waking the room. The counted baselines set the same
 * auto-response, and the bench counts these frames on every implementation's sockets.
 */
export const BROADCAST = 'b';
export const PING = 'ping';
export const PONG = 'pong';
