// The reply gate (core/src/internal/ReplyGate.ts), the hook replication attaches to: a processed message's
// reply and its send's promise wait for a condition, while the actor goes on with its next messages.

import type { ActorSystem, Context} from '@casty/core';
import { Actor, ActorStopped, DeadLetter, message, Request } from '@casty/core';
import { waitUntil } from '@casty/core/testing';
import { LocalActorRef } from '@casty/core/internal';
import type { GatedCell } from '@casty/core/internal';
import { quietSystem, record } from './fixtures/recording';

@message('gate.Add') class Add { constructor(readonly n: number) {} }
@message('gate.Get') class Get extends Request<number> {}
@message('gate.Boom') class Boom {}
@message('gate.Quit') class Quit {}
type Msg = Add | Get | Boom | Quit;

class Counter extends Actor<Msg> {
  total = 0;
  override receive(msg: Msg, ctx: Context<Msg>): void {
    if (msg instanceof Add) this.total += msg.n;
    else if (msg instanceof Get) ctx.reply(this.total);
    else if (msg instanceof Quit) void ctx.stop();
    else throw new Error('boom');
  }
}

/** A gate whose conditions the test settles by hand, in any order; records which messages passed it. */
function manualGate() {
  const waiting: { msg: unknown; resolve: () => void; reject: (e: unknown) => void }[] = [];
  const gate = (msg: unknown): Promise<void> => new Promise((resolve, reject) => waiting.push({ msg, resolve, reject }));
  return { gate, waiting };
}

async function gated(system: ActorSystem) {
  const ref = await system.spawn(Counter);
  if (!(ref instanceof LocalActorRef)) throw new Error('a local spawn should give a LocalActorRef');
  const { gate, waiting } = manualGate();
  ref.gateReplies(gate);
  return { ref, waiting };
}

function settledState(promise: Promise<unknown>): () => string {
  let state = 'pending';
  promise.then(() => (state = 'resolved'), () => (state = 'rejected'));
  return () => state;
}

describe('reply gate', () => {
  test('an ask is answered only once its gate resolves; the actor goes on meanwhile', async () => {
    await using system = quietSystem();
    const { ref, waiting } = await gated(system);
    const first = ref.ask(new Get());
    const firstState = settledState(first);
    const added = ref.send(new Add(5));
    const addedState = settledState(added);
    const second = ref.ask(new Get());
    // all three were processed (the gate saw each), none was acknowledged
    await new Promise(setImmediate);
    expect(waiting.map((w) => (w.msg as object).constructor.name)).toEqual(['Get', 'Add', 'Get']);
    expect(firstState()).toBe('pending');
    expect(addedState()).toBe('pending');
    // released out of order: each waits for its own condition only
    waiting[2]!.resolve();
    expect(await second).toBe(5);
    expect(firstState()).toBe('pending');
    waiting[1]!.resolve();
    await added;
    waiting[0]!.resolve();
    expect(await first).toBe(0);
  });

  test('a gate that rejects fails the ask and the send with its error', async () => {
    await using system = quietSystem();
    const { ref, waiting } = await gated(system);
    const asked = ref.ask(new Get());
    const sent = ref.send(new Add(1));
    await new Promise(setImmediate);
    const why = new Error('1 of 2 backups acknowledged');
    waiting[0]!.reject(why);
    waiting[1]!.reject(why);
    await expect(asked).rejects.toBe(why);
    await expect(sent).rejects.toBe(why);
  });

  test('a failing message skips the gate: its ask and send fail with the actor\'s error at once', async () => {
    await using system = quietSystem();
    const { ref, waiting } = await gated(system);
    await expect(ref.send(new Boom())).rejects.toThrow('boom');
    expect(waiting).toHaveLength(0);
  });

  test('a send to a gated actor that has stopped resolves and is a dead letter, as any send to a stopped actor', async () => {
    await using system = quietSystem();
    const { ref, waiting } = await gated(system);
    const stopped = record(system, ActorStopped);
    const dead = record(system, DeadLetter);
    void ref.send(new Quit());
    await waitUntil('the actor stopped', () => stopped.length === 1);
    waiting[0]!.resolve();
    await ref.send(new Add(1));
    expect(dead.map((d) => d.reason)).toEqual(['stopped']);
  });

  test('without a gate a send resolves at once and a reply goes out as it is made', async () => {
    await using system = quietSystem();
    const ref = await system.spawn(Counter);
    await ref.send(new Add(2));
    expect(await ref.ask(new Get())).toBe(2);
  });
});

test('admitOnly refuses messages unprocessed while it returns an error, queued ones too: an ask rejects with it, a send is a dead letter', async () => {
  await using system = quietSystem();
  const ref = await system.spawn(Counter);
  if (!(ref instanceof LocalActorRef)) throw new Error('a local spawn should give a LocalActorRef');
  const dead = record(system, DeadLetter);
  let open = true;
  ref.admitOnly(() => (open ? undefined : new Error('no quorum here')));
  await ref.send(new Add(2));
  expect(await ref.ask(new Get())).toBe(2);
  open = false;
  await ref.send(new Add(5)); // refused: a dead letter
  await expect(ref.ask(new Get())).rejects.toThrow('no quorum here');
  open = true;
  expect(await ref.ask(new Get())).toBe(2); // the refused add was not processed
  await waitUntil('the refused send is a dead letter', () => dead.some((d) => d.message instanceof Add && d.reason === 'unroutable'), 5_000);
});

test('the gate is given the cell: its instance now, whether it is in a message, and how many of its messages failed', async () => {
  await using system = quietSystem();
  const ref = await system.spawn(Counter);
  if (!(ref instanceof LocalActorRef)) throw new Error('a local spawn should give a LocalActorRef');
  const seen: Array<{ instance: boolean; inMessage: boolean; failures: number }> = [];
  let cell: GatedCell | undefined;
  ref.gateReplies((_msg, actor, _reply, c) => {
    cell = c;
    seen.push({ instance: c.gatedInstance === actor, inMessage: c.inMessage, failures: c.failures });
    return undefined;
  });
  await ref.send(new Add(1));
  await expect(ref.send(new Boom())).rejects.toThrow('boom');
  await ref.send(new Add(2));
  // in its message when the gate runs; the failed message passed no gate, but counts
  expect(seen).toEqual([{ instance: true, inMessage: true, failures: 0 }, { instance: true, inMessage: true, failures: 1 }]);
  expect(cell!.inMessage).toBe(false);
  expect((cell!.gatedInstance as Counter).total).toBe(2); // restarted after the failure: a fresh instance, then Add(2)
});
