/**
 * Which version of the wire a client speaks. A module of its own, apart from `protocol.ts`: only
 * the socket's code (a chunk the browser loads on demand) and the handle need it, and a constant in
 * a module the client's entry imports would be part of every page's first load.
 */

/**
 * The version of what browser and room say to each other: frames, events and their payloads. A
 * client states it in its upgrade URL ({@link WIRE_PARAM}; absent means 1), and the handle refuses
 * a socket of any other version with `CloseCode.VersionMismatch` (4426). So a tab still running the
 * bundle of an earlier deploy is told to reload instead of misreading the room. Raise it with any
 * change to the wire that a client of the previous version would misread.
 */
export const WIRE_VERSION = 2;

/** The upgrade URL's query parameter that states the client's {@link WIRE_VERSION}. */
export const WIRE_PARAM = 'wire';
