/**
 * The profiling tools' WebSocket, for a client with no network and no server: it opens on the next
 * macrotask and hears whatever frames `deliver` hands it, as if the room had sent them.
 */
export class FakeSocket extends EventTarget {
	readyState = 0;
	extensions = '';
	protocol = '';
	url: string;

	constructor(url: string | URL) {
		super();
		this.url = String(url);
		setTimeout(() => {
			this.readyState = 1;
			this.dispatchEvent(new Event('open'));
			this.opened();
		}, 0);
	}

	/** Runs right after the `open` event. */
	protected opened(): void {}

	/** A frame from the room, now. */
	deliver(data: string): void {
		this.dispatchEvent(new MessageEvent('message', { data }));
	}

	send(_frame: string): void {}

	close(): void {
		this.readyState = 3;
	}
}
