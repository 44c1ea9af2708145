// README, "Database sync": the load function.
declare const room: DurableObjectStub<import('../server/room').ChatRoom>;
declare function loadTodos(): Promise<{ id: string; title: string }[]>;

export async function load() {
// +page.server.ts: the room's change head first, then the data
const head = await room.changeHead();
return { todos: await loadTodos(), head };
}
