/**
 * How much a socket may have left unread.
 *
 * workerd queues whatever the room sends to a socket whose peer does not read, in memory, without
 * limit, and tells nobody how much (there is no `bufferedAmount`). Keep-alive pings prove nothing:
 * a peer can ping without reading. So the room asks for proof: once a socket has been sent
 * `askEvery` bytes since it last proved it reads, the room sends it a `confirm(nonce)` call; the
 * client answers with an `a<nonce>` frame, which it can only do after reading everything before it
 * (frames arrive in order). A socket sent `limit` bytes past an unanswered request is not reading,
 * and the room closes it. A reading client answers about once per `askEvery` bytes received: a
 * room with ordinary traffic is woken by this rarely.
 *
 * The room counts as it sends (`WebsocketServer.#send`, inline: it runs once per socket per
 * broadcast), and asks with {@link ask} when a check is due.
 *
 * The counts live in memory only: after eviction a socket starts from zero, which only delays the
 * check.
 */

export interface Backlog {
	/** Bytes sent to the socket (UTF-16 units, which is bytes for ASCII). */
	sent: number;
	/** `sent` when the socket last proved it had read everything up to there. */
	read: number;
	/** The outstanding request: its nonce, and `sent` when it was made. */
	asked?: { nonce: string; at: number };
	/** The room has decided to close the socket for not reading. */
	closing?: boolean;
}

/** Makes the request for proof; returns the nonce to send. */
export function ask(backlog: Backlog): string {
	const nonce = crypto.randomUUID();
	backlog.asked = { nonce, at: backlog.sent };
	return nonce;
}

/** The socket answered `nonce`; returns whether it was the outstanding request. */
export function confirmed(backlog: Backlog, nonce: string): boolean {
	if (backlog.asked?.nonce !== nonce) return false;
	backlog.read = backlog.asked.at;
	backlog.asked = undefined;
	return true;
}
