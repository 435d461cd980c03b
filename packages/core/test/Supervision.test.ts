import type { ActorRef, Context } from '@casty/core';
import {
  Actor, ActorRestarted, ActorStopped, MultiChildStrategy, message, Request, supervised, SupervisionStrategy,
  InvalidArgumentError,
} from '@casty/core';
import { waitUntil } from '@casty/core/testing';
import { manualSystem, record } from './fixtures/recording';

@message('sup.Work') class Work { constructor(readonly id: number) {} }
@message('sup.Crash') class Crash { constructor(readonly why = 'boom') {} }
@message('sup.Count') class Count extends Request<number> {}
type Msg = Work | Crash | Count;

const lifecycle: string[] = [];

@supervised({ strategy: SupervisionStrategy.RESTART, maxRestarts: 3, withinSeconds: 60, backoffInitial: 0.1, backoffMax: 30, backoffMultiplier: 2 })
class Worker extends Actor<Msg> {
  processed = 0;
  override async receive(msg: Msg, ctx: Context<Msg>) {
    if (msg instanceof Crash) throw new Error(msg.why);
    if (msg instanceof Work) this.processed++;
    if (msg instanceof Count) ctx.reply(this.processed);
  }
  override preRestart(error: unknown, msg: Msg | undefined) { lifecycle.push(`pre:${(error as Error).message}:${msg?.constructor.name}`); }
  override postRestart(error: unknown) { lifecycle.push(`post:${(error as Error).message}`); }
}

beforeEach(() => { lifecycle.length = 0; });

describe('supervision', () => {
  test('RESTART makes a new instance (preRestart on the old, postRestart on the new) and keeps queued messages', async () => {
    const { system, clock } = manualSystem();
    const restarted = record(system, ActorRestarted);
    const ref = await system.spawn(Worker);
    await ref.send(new Work(1));
    await ref.send(new Crash('first'));
    await ref.send(new Work(2));
    await ref.send(new Work(3));
    const count = ref.ask(new Count(), { timeout: 60_000 });
    await clock.advance(99);
    expect(restarted).toHaveLength(0);      // waiting out the 100 ms backoff; messages wait, none lost
    await clock.advance(1);
    expect(await count).toBe(2);            // new instance: Work(2) and Work(3), state reset
    expect(lifecycle).toEqual(['pre:first:Crash', 'post:first']);
    expect(restarted).toHaveLength(1);
    await system.shutdown();
  });

  test('backoff doubles per restart within the window and is capped at backoffMax', async () => {
    @supervised({ maxRestarts: 10, withinSeconds: 3600, backoffInitial: 1, backoffMax: 5, backoffMultiplier: 2 })
    class Flaky extends Worker {}
    const { system, clock } = manualSystem();
    const restarts = record(system, ActorRestarted);
    const ref = await system.spawn(Flaky);
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      await ref.send(new Crash());
      const before = clock.now();
      const seen = restarts.length;
      while (restarts.length === seen) await clock.advance(100);
      delays.push(clock.now() - before);
    }
    expect(delays).toEqual([1000, 2000, 4000, 5000, 5000]);
    await system.shutdown();
  });

  test('past maxRestarts within the window the actor stops, with an event', async () => {
    @supervised({ maxRestarts: 2, withinSeconds: 10, backoffInitial: 0 })
    class Limited extends Worker {}
    const { system, clock } = manualSystem();
    const stopped = record(system, ActorStopped);
    const ref = await system.spawn(Limited, { name: 'limited' });
    for (let i = 0; i < 3; i++) {
      await ref.send(new Crash(`c${i}`));
      await clock.advance(0);
    }
    await waitUntil('limited stopped', () => stopped.length === 1);
    expect(stopped[0]!.reason).toBe('restart-limit');
    expect((stopped[0]!.error as Error).message).toBe('c2');
    expect(await system.lookup('limited')).toBeUndefined();
    await system.shutdown();
  });

  test('restarts older than the window do not count', async () => {
    @supervised({ maxRestarts: 2, withinSeconds: 10, backoffInitial: 0 })
    class Windowed extends Worker {}
    const { system, clock } = manualSystem();
    const stopped = record(system, ActorStopped);
    const restarted = record(system, ActorRestarted);
    const ref = await system.spawn(Windowed);
    for (let i = 0; i < 6; i++) {
      await ref.send(new Crash());
      await clock.advance(6_000);             // two failures per 12 s: never more than 2 inside 10 s
    }
    expect(restarted).toHaveLength(6);
    expect(stopped).toHaveLength(0);
    await system.shutdown();
  });

  test('STOP stops the failed actor', async () => {
    @supervised({ strategy: SupervisionStrategy.STOP })
    class Fragile extends Worker {}
    const { system } = manualSystem();
    const stopped = record(system, ActorStopped);
    const ref = await system.spawn(Fragile);
    await ref.send(new Crash('fatal'));
    await waitUntil('stopped', () => stopped.length === 1);
    expect(stopped[0]!.reason).toBe('failed');
    await system.shutdown();
  });

  test('onError returning true keeps the instance and its state (no supervisor involved)', async () => {
    class Tolerant extends Worker {
      override onError(error: unknown) { return (error as Error).message === 'transient'; }
    }
    const { system } = manualSystem();
    const restarted = record(system, ActorRestarted);
    const ref = await system.spawn(Tolerant);
    await ref.send(new Work(1));
    await ref.send(new Crash('transient'));
    await ref.send(new Work(2));
    expect(await ref.ask(new Count())).toBe(2);
    expect(restarted).toHaveLength(0);
    await system.shutdown();
  });

  test('a decider picks the strategy per error', async () => {
    @supervised({ backoffInitial: 0, decider: (e) => ((e as Error).message === 'fatal' ? SupervisionStrategy.STOP : SupervisionStrategy.RESTART) })
    class Decided extends Worker {}
    const { system, clock } = manualSystem();
    const stopped = record(system, ActorStopped);
    const restarted = record(system, ActorRestarted);
    const ref = await system.spawn(Decided);
    await ref.send(new Crash('recoverable'));
    await clock.advance(0);
    await waitUntil('restarted', () => restarted.length === 1);
    await ref.send(new Crash('fatal'));
    await waitUntil('stopped', () => stopped.length === 1);
    await system.shutdown();
  });

  test('ESCALATE fails the parent, whose own strategy decides (here: restart, which restarts its children too)', async () => {
    const events: string[] = [];
    @supervised({ strategy: SupervisionStrategy.ESCALATE })
    class Child extends Actor<Msg> {
      override onStart() { events.push('child:start'); }
      override receive(msg: Msg) { if (msg instanceof Crash) throw new Error('child failed'); }
    }
    @supervised({ strategy: SupervisionStrategy.RESTART, backoffInitial: 0 })
    class Parent extends Actor<string> {
      override onStart() { events.push('parent:start'); }
      override postRestart(error: unknown) { events.push(`parent:restarted:${(error as Error).message}`); }
      override async receive(_m: string, ctx: Context<unknown>) { ctx.reply(await ctx.spawn(Child, { name: 'child' })); }
    }
    const { system, clock } = manualSystem();
    const parent = await system.spawn(Parent, { name: 'parent' });
    const child = (await parent.ask('spawn')) as unknown as ActorRef<Msg>;
    await child.send(new Crash());
    await clock.advance(0);
    await waitUntil('parent restarted', () => events.includes('parent:restarted:child failed'));
    expect(events).toEqual(['parent:start', 'child:start', 'parent:restarted:child failed']);
    expect(await system.lookup('/user/parent/child')).toBeUndefined();   // the restart stopped the old child
    await system.shutdown();
  });

  test('ONE_FOR_ALL restarts every child when one fails', async () => {
    const { system, clock, restarts } = await familySetup(MultiChildStrategy.ONE_FOR_ALL, 1);
    expect(restarts).toEqual(['w0', 'w1', 'w2', 'w3']);
    await system.shutdown();
    void clock;
  });

  test('REST_FOR_ONE restarts the failed child and those spawned after it, in spawn order', async () => {
    const { system, restarts } = await familySetup(MultiChildStrategy.REST_FOR_ONE, 1);
    expect(restarts).toEqual(['w1', 'w2', 'w3']);
    await system.shutdown();
  });

  test('ONE_FOR_ONE restarts only the failed child', async () => {
    const { system, restarts } = await familySetup(MultiChildStrategy.ONE_FOR_ONE, 2);
    expect(restarts).toEqual(['w2']);
    await system.shutdown();
  });

  test('top-level actors without @supervised get the default strategy: restart after 100 ms', async () => {
    class Plain extends Actor<Msg> {
      n = 0;
      override receive(msg: Msg, ctx: Context<Msg>) {
        if (msg instanceof Crash) throw new Error('x');
        if (msg instanceof Work) this.n++;
        if (msg instanceof Count) ctx.reply(this.n);
      }
    }
    const { system, clock } = manualSystem();
    const restarted = record(system, ActorRestarted);
    const ref = await system.spawn(Plain);
    await ref.send(new Work(1));
    await ref.send(new Crash());
    await clock.advance(100);
    expect(restarted).toHaveLength(1);
    expect(await ref.ask(new Count())).toBe(0);
    await system.shutdown();
  });

  test('wrong @supervised options are rejected at the decorator, naming the field', () => {
    expect(() => supervised({ maxRestarts: -1 })).toThrow(InvalidArgumentError);
    expect(() => supervised({ backoffMultiplier: 0.5 })).toThrow(/'backoffMultiplier' must be a number >= 1/);
    expect(() => supervised({ strategy: 'sometimes' as SupervisionStrategy })).toThrow(/'strategy'/);
  });

  test('a backoffInitial above the default backoffMax names backoffInitial, the field that was set', () => {
    expect(() => supervised({ backoffInitial: 60 })).toThrow(InvalidArgumentError);
    expect(() => supervised({ backoffInitial: 60 })).toThrow(
      '@supervised: backoffInitial (60 s) must be <= backoffMax (30 s, the default): lower backoffInitial or set backoffMax');
  });

  test('a backoffMax below the default backoffInitial names backoffMax; both set names both', () => {
    expect(() => supervised({ backoffMax: 0.05 })).toThrow(
      '@supervised: backoffMax (0.05 s) must be >= backoffInitial (0.1 s, the default): raise backoffMax or set backoffInitial');
    expect(() => supervised({ backoffInitial: 10, backoffMax: 5 })).toThrow(
      '@supervised: backoffInitial (10 s) must be <= backoffMax (5 s): lower backoffInitial or raise backoffMax');
    expect(() => supervised({ backoffInitial: 30 })).not.toThrow(); // equal to the default max is fine
  });

  test('numbers given as strings are rejected (tsx does not type-check), naming the field', () => {
    expect(() => supervised({ backoffMax: '30' as unknown as number })).toThrow(/'backoffMax' must be a number of seconds >= 0, got "30"/);
    expect(() => supervised({ withinSeconds: '60' as unknown as number })).toThrow(/'withinSeconds' must be a number of seconds > 0, got "60"/);
    expect(() => supervised({ backoffMultiplier: '2' as unknown as number })).toThrow(/'backoffMultiplier' must be a number >= 1, got "2"/);
  });
});

async function familySetup(strategy: MultiChildStrategy, failing: number) {
  const restarts: string[] = [];
  @supervised({ backoffInitial: 0 })
  class Member extends Actor<Msg> {
    constructor(readonly label: string) { super(); }
    override postRestart() { restarts.push(this.label); }
    override receive(msg: Msg) { if (msg instanceof Crash) throw new Error(`${this.label} crashed`); }
  }
  @supervised({ multiChild: strategy })
  class Coordinator extends Actor<unknown> {
    workers: ActorRef<Msg>[] = [];
    override async receive(n: number, ctx: Context<unknown>) {
      if (this.workers.length === 0) {
        for (let i = 0; i < 4; i++) this.workers.push(await ctx.spawn(Member, { name: `w${i}`, args: [`w${i}`] }));
      }
      await this.workers[n]!.send(new Crash());
      ctx.reply(0);
    }
  }
  const { system, clock } = manualSystem();
  const restarted = record(system, ActorRestarted);
  const coordinator = await system.spawn(Coordinator);
  await coordinator.ask(failing);
  const expected = strategy === MultiChildStrategy.ONE_FOR_ALL ? 4 : strategy === MultiChildStrategy.REST_FOR_ONE ? 4 - failing : 1;
  await clock.advance(0);
  await waitUntil(`${expected} restarts`, () => restarted.length === expected, 5_000, () => restarts);
  return { system, clock, restarts };
}
