// Seed 000 "Spawning and Hierarchies": children supervised by their parent, named actors and lookup.
import type { ActorRef, Context } from 'casty';
import { Actor, ActorSystem, message, Request } from 'casty';

@message() class StartWorkers extends Request<number> { constructor(readonly count: number) { super(); } }
@message() class CacheSet { constructor(readonly key: string, readonly value: string) {} }
@message() class CacheGet extends Request<string | undefined> { constructor(readonly key: string) { super(); } }

class Worker extends Actor<string> {
  async receive(): Promise<void> {}
  async onStop(): Promise<void> { console.log('worker stopped'); }
}

class Supervisor extends Actor<StartWorkers> {
  workers: ActorRef<string>[] = [];
  async receive(msg: StartWorkers, ctx: Context<StartWorkers>): Promise<void> {
    for (let i = 0; i < msg.count; i++) this.workers.push(await ctx.spawn(Worker, { name: `worker-${i}` }));
    ctx.reply(ctx.children.length);
  }
  async onStop(): Promise<void> { console.log('supervisor stopped (after its children)'); }
}

class CacheActor extends Actor<CacheSet | CacheGet> {
  entries = new Map<string, string>();
  async receive(msg: CacheSet | CacheGet, ctx: Context<CacheSet | CacheGet>): Promise<void> {
    if (msg instanceof CacheSet) this.entries.set(msg.key, msg.value);
    else ctx.reply(this.entries.get(msg.key));
  }
}

await using system = ActorSystem.create();
const supervisor = await system.spawn(Supervisor, { name: 'supervisor' });
console.log(`children: ${await supervisor.ask(new StartWorkers(3))}`);
console.log(`found ${(await system.lookup('/user/supervisor/worker-1'))?.path}`);

await system.spawn(CacheActor, { name: 'main-cache' });
const cache = await system.lookup(CacheActor, 'main-cache');   // by name from anywhere, typed by the class
if (cache) {
  await cache.send(new CacheSet('key', 'value'));
  console.log(`cached: ${await cache.ask(new CacheGet('key'))}`);
}
