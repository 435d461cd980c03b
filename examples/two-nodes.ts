// Seed 000 "Going Distributed": two cluster nodes (here in one process, on two ports picked by the OS).
// node-1 hosts a named greeter; node-2 joins through node-1, looks the greeter up and talks to it with the
// same send/ask it would use on a local actor, and hands it a ref to one of its own actors to answer.
import type { ActorRef, Context } from 'casty';
import { Actor, clustered, ClusterConfig, message, RemoteActorRef, Request } from 'casty';

@message('example.Greet') class Greet extends Request<string> { constructor(readonly name: string) { super(); } }
@message('example.Subscribe') class Subscribe { constructor(readonly subscriber: ActorRef<News>) {} }
@message('example.News') class News { constructor(readonly text: string) {} }

class Greeter extends Actor<Greet | Subscribe> {
  async receive(msg: Greet | Subscribe, ctx: Context<Greet | Subscribe>): Promise<void> {
    if (msg instanceof Greet) ctx.reply(`Hello, ${msg.name}! (from ${ctx.selfRef.path} on node-1)`);
    else await msg.subscriber.send(new News('node-1 says hi'));    // a ref that came from node-2
  }
}

class Reader extends Actor<News> {
  constructor(private readonly onNews: (text: string) => void) { super(); }
  receive(msg: News): void { this.onNews(msg.text); }
}

await using node1 = await clustered({ nodeId: 'node-1', port: 0, config: ClusterConfig.development() });
await node1.spawn(Greeter, { name: 'greeter' });                  // named: visible from other nodes

await using node2 = await clustered({
  nodeId: 'node-2', port: 0, seeds: [`127.0.0.1:${node1.address.port}`], config: ClusterConfig.development(),
});
await node2.joined();                                             // heard from the cluster through its seed
console.log(`node-2 sees: ${node2.members().map((m) => m.nodeId).join(', ')}`);

const greeter = await node2.lookup<Greet | Subscribe>('greeter');
if (!(greeter instanceof RemoteActorRef)) throw new Error('greeter not found on the other node');
console.log(`found greeter on ${greeter.nodeId}`);
console.log(await greeter.ask(new Greet('Alice')));

let onNews!: (text: string) => void;
const news = new Promise<string>((resolve) => (onNews = resolve));
const reader = await node2.spawn(Reader, { args: [onNews] });
await greeter.send(new Subscribe(reader));                        // node-1 answers through this ref
console.log(`News on node-2: ${await news}`);
