// Seed 000 "Chat Room Server": chat rooms as sharded entities on a cluster of three nodes (in one process here).
// Every node runs the same code and registers the same type; a room is created on demand, by its first message,
// on the node that owns its shard, and `rooms.entity(id)` reaches it from any node with the same send and ask
// as a local actor.
import type { Context } from 'casty';
import { Actor, message, Request } from 'casty';
import { LocalCluster } from './cluster';

/** Joins a user to the room; answers the room's member count. */
@message('example.chat.Join') class Join extends Request<number> { constructor(readonly userId: string) { super(); } }
@message('example.chat.Leave') class Leave { constructor(readonly userId: string) {} }
@message('example.chat.Post') class Post { constructor(readonly userId: string, readonly text: string) {} }
@message('example.chat.GetMembers') class GetMembers extends Request<string[]> {}
@message('example.chat.GetHistory') class GetHistory extends Request<{ node: string; lines: string[] }> {}
type RoomMsg = Join | Leave | Post | GetMembers | GetHistory;

class ChatRoom extends Actor<RoomMsg> {
  members = new Set<string>();
  history: [user: string, text: string][] = [];

  constructor(readonly entityId: string) { super(); }   // a sharded entity's constructor takes its id first

  receive(msg: RoomMsg, ctx: Context<RoomMsg>): void {
    if (msg instanceof Join) ctx.reply(this.members.add(msg.userId).size);
    else if (msg instanceof Leave) this.members.delete(msg.userId);
    else if (msg instanceof Post) this.history.push([msg.userId, msg.text]);   // a real app would broadcast it
    else if (msg instanceof GetMembers) ctx.reply([...this.members].sort());
    else ctx.reply({ node: ctx.system.name, lines: this.history.map(([user, text]) => `${user}: ${text}`) });
  }
}

await using cluster = await LocalCluster.start(['node-1', 'node-2', 'node-3']);
console.log(`three nodes up: ${cluster.nodes[0]!.members().map((m) => m.nodeId).join(', ')}`);
// each node registers 'rooms' and gets its own ShardedRef to them: users connect to any node
const [node1, node2, node3] = await Promise.all(cluster.nodes.map((n) => n.spawn(ChatRoom, { name: 'rooms', sharded: true })));

// alice, bob and carol join #general at once, each through another node: one room answers them all
await Promise.all([node1!.entity('general').ask(new Join('alice')), node2!.entity('general').ask(new Join('bob')),
  node3!.entity('general').ask(new Join('carol'))]);
const general = node2!.entity('general');                    // an ordinary ActorRef, wherever the room lives
await general.send(new Post('alice', 'Hello everyone!'));
await general.send(new Leave('carol'));
console.log(`Members: ${(await general.ask(new GetMembers())).join(', ')}`);   // node-2's sends came before its ask
for (const [name, rooms] of [['node-1', node1!], ['node-3', node3!]] as const) {
  console.log(`asked from ${name}: ${(await rooms.entity('general').ask(new GetMembers())).join(', ')}`);
}
const { node, lines } = await node3!.entity('general').ask(new GetHistory());
console.log(`#general lives on ${node}; history: ${lines.join(' | ')}`);

// more rooms: each lives on the node its id hashes to
for (const [room, user] of [['random', 'dave'], ['help', 'erin'], ['games', 'frank'], ['music', 'grace']] as const) {
  await node1!.entity(room).ask(new Join(user));
  await node1!.entity(room).send(new Post(user, `hi from ${user}`));
  const where = await node1!.entity(room).ask(new GetHistory());
  console.log(`#${room} lives on ${where.node}; history: ${where.lines.join(' | ')}`);
}
