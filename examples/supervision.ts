// Seed 000 "Supervision and Fault Tolerance": restart with backoff, restart limits, and ONE_FOR_ALL.
import type { Context } from 'casty';
import {
  Actor, ActorRestarted, ActorStopped, ActorSystem, message, MultiChildStrategy, Request, silentLogger,
  supervised, SupervisionStrategy,
} from 'casty';

@message() class Task { constructor(readonly id: number, readonly fail = false) {} }
@message() class Processed extends Request<number> {}

@supervised({
  strategy: SupervisionStrategy.RESTART,
  maxRestarts: 3,
  withinSeconds: 60,
  backoffInitial: 0.05,      // seconds: 50 ms before the first restart
  backoffMax: 30,
  backoffMultiplier: 2,      // then 100 ms, 200 ms...
})
class StatefulWorker extends Actor<Task | Processed> {
  processed = 0;
  async receive(msg: Task | Processed, ctx: Context<Task | Processed>): Promise<void> {
    if (msg instanceof Processed) return ctx.reply(this.processed);
    if (msg.fail) throw new Error(`task ${msg.id} failed`);   // let it crash
    this.processed++;
  }
  async preRestart(error: unknown): Promise<void> {
    console.log(`Failed after ${this.processed} tasks: ${(error as Error).message}`);
  }
  async postRestart(): Promise<void> {
    console.log('Restarted with fresh state');
  }
}

@supervised({ backoffInitial: 0 })
class Member extends Actor<Task> {
  constructor(readonly label: string) { super(); }
  async receive(msg: Task): Promise<void> { if (msg.fail) throw new Error(`${this.label} crashed`); }
  async postRestart(): Promise<void> { console.log(`${this.label} restarted`); }
}

@supervised({ multiChild: MultiChildStrategy.ONE_FOR_ALL })
class Coordinator extends Actor<Task> {
  async receive(msg: Task, ctx: Context<Task>): Promise<void> {
    const workers = [];
    for (let i = 0; i < 3; i++) workers.push(await ctx.spawn(Member, { name: `member-${i}`, args: [`member-${i}`] }));
    await workers[msg.id]!.send(new Task(msg.id, true));   // one fails: all three restart together
  }
}

await using system = ActorSystem.create({ logger: silentLogger });
const worker = await system.spawn(StatefulWorker, { name: 'worker' });
await worker.send(new Task(1));
await worker.send(new Task(2));
await worker.send(new Task(3, true));
await worker.send(new Task(4));            // waits in the mailbox during the backoff; not lost
console.log(`processed since restart: ${await worker.ask(new Processed())}`);

const restarts = system.events.next(ActorRestarted, (e) => e.ref.path.endsWith('member-2'));
const coordinator = await system.spawn(Coordinator);
await coordinator.send(new Task(1));
await restarts;

const stopped = system.events.next(ActorStopped, (e) => e.ref.path === '/user/worker');
for (let i = 0; i < 4; i++) await worker.send(new Task(100 + i, true));
const event = await stopped;
console.log(`worker stopped: ${event.reason}`);
