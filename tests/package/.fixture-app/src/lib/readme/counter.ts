// README, "Room RPC": pipelining through an RpcTarget a method returns.
import { RpcTarget } from 'capnweb';
import { RoomApi } from '@delightstack/websocket/worker';
import { WebsocketClient } from '@delightstack/websocket/client';
import type { ChatEvents, ChatMeta, ChatRoom } from '../server/room';

class Counter extends RpcTarget {
	constructor(public n: number) {
		super();
	}
	increment(by: number) {
		this.n += by;
		return this;
	}
	value() {
		return this.n;
	}
}

export class CounterApi extends RoomApi<ChatRoom> {
	counter(start: number) {
		return new Counter(start);
	}
}

// in the browser, with `static api = CounterApi` in the room:
const ws = new WebsocketClient<ChatMeta, ChatEvents, CounterApi>();
const n = await ws.rpc.counter(1).increment(2).value(); // pipelined: one frame each way

export { n };
