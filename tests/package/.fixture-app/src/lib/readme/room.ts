// The room `worker.ts` exports.
export { ChatRoom } from '../server/room';
