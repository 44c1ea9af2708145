/**
 * The `debug` option: one line per thing the connection does, for finding out why a client is not
 * connecting or keeps reconnecting.
 */

/** `true` logs with `console.debug`; a function receives each line instead. */
export type DebugOption = boolean | ((line: string) => void);

/** The logger for a `debug` option, or `undefined` when it is off (so call sites cost nothing). */
export function debugLogger(option: DebugOption | undefined): ((line: string) => void) | undefined {
	if (!option) return undefined;
	if (typeof option === 'function') return option;
	return (line) => console.debug(`@delightstack/websocket ${line}`);
}
