// A cluster singleton (seed 000 "Singleton Actors"): one job scheduler in the whole cluster, whichever node asks.
// Every node spawns it the same way; it runs on the oldest node. When that node leaves, the scheduler moves, with
// its state, to the next oldest, and every node's ref reaches it there.
import type { Context } from 'casty';
import { Actor, message, Request } from 'casty';
import { LocalCluster } from './cluster';

@message('example.singleton.Schedule') class Schedule extends Request<number> { constructor(readonly job: string) { super(); } }
@message('example.singleton.Status') class Status extends Request<{ node: string; jobs: string[] }> {}
type SchedulerMsg = Schedule | Status;

class JobScheduler extends Actor<SchedulerMsg> {
  jobs: string[] = [];                                 // its state: what moves with it

  receive(msg: SchedulerMsg, ctx: Context<SchedulerMsg>): void {
    if (msg instanceof Schedule) {
      this.jobs.push(msg.job);
      ctx.reply(this.jobs.length);
    } else {
      ctx.reply({ node: ctx.system.name, jobs: this.jobs });
    }
  }
}

await using cluster = await LocalCluster.start(['node-1', 'node-2', 'node-3']);
const schedulers = await Promise.all(cluster.nodes.map((n) => n.spawn(JobScheduler, { name: 'job-scheduler', singleton: true })));

// every node schedules a job through its own ref: one scheduler gets them all
for (const [i, scheduler] of schedulers.entries()) await scheduler.ask(new Schedule(`report-${i + 1}`));
const before = await schedulers[2]!.ask(new Status());
console.log(`the scheduler runs on ${before.node}, with ${before.jobs.length} jobs: ${before.jobs.join(', ')}`);

// its node leaves gracefully: the scheduler moves with its jobs; the refs of the other nodes follow it
const host = cluster.nodes.find((n) => n.name === before.node)!;
const others = schedulers.filter((_, i) => cluster.nodes[i] !== host);
await cluster.leave(host);
const after = await others[0]!.ask(new Status());
console.log(`${before.node} left; the scheduler now runs on ${after.node}, with ${after.jobs.length} jobs: ${after.jobs.join(', ')}`);
console.log(`another job from the last node: ${await others[1]!.ask(new Schedule('report-4'))} jobs`);
