/**
 * Whether the shortcut is on (it is, always, in production). A test run sets
 * `globalThis.__delightstackNoShortcut = true` before anything loads (CI's `NO_SHORTCUT=1` run) to
 * send every call, answer and event through capnweb sessions instead: the suites then check the
 * room and the client without the shortcut, and the shortcut's tests check it equals them.
 */
export const SHORTCUT: boolean = (globalThis as { __delightstackNoShortcut?: boolean }).__delightstackNoShortcut !== true;
