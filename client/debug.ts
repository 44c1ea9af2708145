/**
 * The `debug` option: one line per thing the connection does, for finding out why a client is not
 * connecting or keeps reconnecting.
 */

/** `true` logs with `console.debug`; a function receives each line instead. */
export type DebugOption = boolean | ((line: string) => void);

/** Frames are cut at this many characters in debug lines. */
export const DEBUG_FRAME_CHARS = 200;

/** The logger for a `debug` option, or `undefined` when it is off (so call sites cost nothing). */
export function debugLogger(option: DebugOption | undefined): ((line: string) => void) | undefined {
	if (!option) return undefined;
	if (typeof option === 'function') return option;
	return (line) => console.debug(`@delightstack/websocket ${line}`);
}

/** A frame for a debug line: at most {@link DEBUG_FRAME_CHARS}, saying how much was cut. */
export function clip(frame: string): string {
	return frame.length <= DEBUG_FRAME_CHARS ? frame : `${frame.slice(0, DEBUG_FRAME_CHARS)}… (${frame.length} chars)`;
}
