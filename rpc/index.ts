/** `@delightstack/websocket/rpc`: what the room and the browser share. */
export * from './errors.js';
export * from './frame.js';
export * from './payload.js';
export * from './protocol.js';
export * from './types.js';
