// Type tests: `npm run typecheck` fails if any `@ts-expect-error` below stops being an error.
import type { RoomRpc } from '../../rpc/types.js';
import type { TestApi } from '../worker/index.js';

declare const rpc: RoomRpc<TestApi>;

const sum: Promise<number> = rpc.add(1, 2);
const pipelined: Promise<number> = rpc.counter(1).increment(2).value();
const who: Promise<{ id: string }> = rpc.whoami();
(void sum, pipelined, who);

// @ts-expect-error wrong argument type
rpc.add('1', 2);
// @ts-expect-error no such method
rpc.nosuch();
// @ts-expect-error the room and the caller's session are not part of the API
rpc.room;
// @ts-expect-error
rpc.session;
// @ts-expect-error the result is a number, not a string
const wrong: Promise<string> = rpc.add(1, 2);
void wrong;
