// The replicator as a backup, alone (a fake host records what it sends): versions by (epoch, seq), never an older
// one over a newer; an epoch older than the shard's fence is refused, and said so; a restore in progress refuses
// anyone but the restorer; malformed entries are dropped with a warning; the bound on bytes is a logged decision.

import { Codec } from '@casty/core';
import { ManualClock } from '@casty/core/testing';
import { CapturingLogger } from '@casty/cluster/testing';
import type { ActorRef } from '@casty/core';
import { HashRing } from '@casty/sharding';
import { ReplicaAcks, ReplicaAnswer, ReplicaBatch, ReplicaFence, ReplicaPull, ReplicaQuery, Replicator, StaleOwnerError } from '@casty/replication';

const answered = () => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));

function backup(maxBytes = 1_000_000) {
  const sent: Array<{ to: string; msg: unknown }> = [];
  const logger = new CapturingLogger(100);
  const ring = HashRing.of(['p', 'me', 'q'], { shardCount: 16 });
  const clock = new ManualClock();
  const replicator = new Replicator({ factor: 3, syncCount: 1, timeoutMs: 1_000 }, {
    typeName: 'accounts', selfId: 'me', logger, codec: new Codec(), clock, maxBytes, shardCount: 16,
    placement: () => ring, isLive: () => true, liveMembers: () => ['p', 'me', 'q'], epochOf: () => undefined, stepDown: (_shard, _requester, then) => then(),
    regionOn: (to) => ({ send: (msg: unknown) => { sent.push({ to, msg }); return Promise.resolve(); } }) as unknown as ActorRef<unknown>,
    tell: (to, msg) => sent.push({ to, msg }), sendBulk: (to, msg) => sent.push({ to, msg }),
    relayReply: (route, body) => sent.push({ to: route.node, msg: { relayed: route.id, body } }) > 0,
  });
  const state = (n: number) => Uint8Array.of(n);
  // a backup answers the batches of a turn together, two turns of the event loop later (see Replicator.batch)
  const lastAcks = async () => {
    await answered();
    return sent.filter((s) => s.msg instanceof ReplicaAcks).pop()?.msg as ReplicaAcks;
  };
  return { replicator, sent, logger, state, lastAcks, clock };
}

test('a backup keeps the newest version of each entity by (epoch, seq) and acknowledges what it holds, a turn\'s batches in one answer', async () => {
  const { replicator, sent, state, lastAcks } = backup();
  replicator.receive(new ReplicaBatch('p', [[3, 1, 'alice', 5, state(5)]]));
  replicator.receive(new ReplicaBatch('p', [[3, 1, 'alice', 4, state(4)]])); // older seq, same epoch: kept out
  expect(replicator.handOffEntries(3)).toEqual([[3, 1, 'alice', 5, state(5)]]);
  expect(sent.filter((s) => s.msg instanceof ReplicaAcks)).toEqual([]); // answered after the turn, not per batch
  // it holds 4 or newer: acknowledged all the same; both batches in one answer
  expect((await lastAcks()).acks).toEqual([[3, 'alice', 5], [3, 'alice', 4]]);
  expect(sent.filter((s) => s.msg instanceof ReplicaAcks)).toHaveLength(1);
  replicator.receive(new ReplicaBatch('q', [[3, 2, 'alice', 1, state(1)]])); // a newer epoch wins over a higher seq
  expect(replicator.handOffEntries(3)).toEqual([[3, 2, 'alice', 1, state(1)]]);
});

test('a backup delivers a reply it carries only once it holds the version the reply waits for, and says which it delivered', async () => {
  const { replicator, sent, state, lastAcks } = backup();
  const body = Uint8Array.of(42);
  replicator.receive(new ReplicaBatch('p', [[3, 2, 'alice', 5, state(5)]], true, [[3, 2, 'alice', 5, 'asker', 7, body]]));
  expect(sent.filter((s) => 'relayed' in (s.msg as object))).toEqual([{ to: 'asker', msg: { relayed: 7, body } }]);
  expect((await lastAcks()).replied).toEqual([['asker', 7]]);
  // refused (an older epoch than the shard's fence): it holds no such version, so the reply stays with the holder
  replicator.receive(new ReplicaBatch('p', [[3, 1, 'alice', 9, state(9)]], true, [[3, 1, 'alice', 9, 'asker', 8, body]]));
  expect((await lastAcks()).refused).toEqual([[3, 2]]);
  expect((await lastAcks()).replied).toEqual([]);
  expect(sent.filter((s) => 'relayed' in (s.msg as object))).toHaveLength(1);
});

test('the answer to a batch whose reply was delivered here is sent after the asker\'s next message is written', async () => {
  // the transport as it is: a message sent is queued, and written when the event loop turns (setImmediate)
  const events: string[] = [];
  const { replicator, sent, state, lastAcks } = backup();
  const transport = (what: string) => {
    events.push(`queue ${what}`);
    setImmediate(() => events.push(`write ${what}`));
  };
  const told = sent.push.bind(sent);
  sent.push = (...items) => {
    for (const item of items) if (item.msg instanceof ReplicaAcks) transport('answer');
    return told(...items);
  };
  // the asker is this node: its ask settles, and its continuation sends the next message at once
  const delivered = new Promise<void>((resolve) => {
    const relayed = sent.push.bind(sent);
    sent.push = (...items) => {
      if (items.some((item) => 'relayed' in (item.msg as object))) resolve();
      return relayed(...items);
    };
  });
  void delivered.then(() => transport('next message'));
  replicator.receive(new ReplicaBatch('p', [[3, 2, 'alice', 5, state(5)]], true, [[3, 2, 'alice', 5, 'me', 7, Uint8Array.of(42)]]));
  expect((await lastAcks()).replied).toEqual([['me', 7]]);
  await new Promise((resolve) => setImmediate(resolve));
  // answered in this turn, the answer was queued, and its encoding done, ahead of the next message's write
  expect(events).toEqual(['queue next message', 'write next message', 'queue answer', 'write answer']);
});

test('a malformed reply in a batch is dropped with a warning; the batch\'s states are kept and acknowledged', async () => {
  const { replicator, sent, state, lastAcks, logger } = backup();
  const bad = [[3, 1, 'alice', 1, 42, 'not an id', 'not bytes'], 'not a reply'] as never;
  replicator.receive(new ReplicaBatch('p', [[3, 1, 'alice', 1, state(1)]], true, bad));
  expect((await lastAcks()).acks).toEqual([[3, 'alice', 1]]);
  expect((await lastAcks()).replied).toEqual([]);
  expect(sent.filter((s) => 'relayed' in (s.msg as object))).toHaveLength(0);
  expect(logger.entries.filter((e) => /malformed reply/.test(e.message))).toHaveLength(2);
});

test('an epoch older than the shard\'s fence is refused and said so; during a restore only the restorer is taken', async () => {
  const { replicator, state, lastAcks } = backup();
  replicator.receive(new ReplicaFence(3, 7, 'q'));
  replicator.receive(new ReplicaBatch('p', [[3, 6, 'alice', 9, state(9)]]));
  expect(replicator.handOffEntries(3)).toEqual([]);
  expect((await lastAcks())).toMatchObject({ from: 'me', acks: [], refused: [[3, 7]] });
  replicator.receive(new ReplicaQuery(4, 'q')); // q restores shard 4: only q's states are taken for it now
  replicator.receive(new ReplicaBatch('p', [[4, 9, 'bob', 1, state(1)]]));
  expect(replicator.handOffEntries(4)).toEqual([]);
  replicator.receive(new ReplicaFence(4, 10, 'q'));
  replicator.receive(new ReplicaBatch('q', [[4, 10, 'bob', 2, state(2)]]));
  expect(replicator.handOffEntries(4)).toEqual([[4, 10, 'bob', 2, state(2)]]);
});

test('malformed entries are dropped with a warning; past the bound a state is not kept, not acknowledged, and logged', async () => {
  const { replicator, state, logger, lastAcks } = backup(3);
  replicator.receive(new ReplicaBatch('p', [[99, 1, 'x', 1, state(1)], [3, 1, 'x', 1, 'not bytes' as never]]));
  expect(replicator.summary()).toEqual({ bytes: 0, entities: 0 });
  expect(logger.entries.filter((e) => e.message.includes('malformed replica entry'))).toHaveLength(2);
  replicator.receive(new ReplicaBatch('p', [[3, 1, 'a', 1, state(1)], [3, 1, 'b', 1, Uint8Array.of(1, 2, 3)]]));
  expect(replicator.summary()).toEqual({ bytes: 1, entities: 1 });
  expect((await lastAcks()).acks).toEqual([[3, 'a', 1]]);
  expect(logger.entries.some((e) => e.level === 'error' && e.message.includes('would pass the bound (maxReplicaBytes 3)'))).toBe(true);
});

test('a restorer that never fences its shard (it crashed mid-restore) stops being waited for after twice the restore timeout', async () => {
  const { replicator, state, clock } = backup();
  replicator.receive(new ReplicaQuery(5, 'q'));
  replicator.receive(new ReplicaBatch('p', [[5, 1, 'carol', 1, state(1)]]));
  expect(replicator.handOffEntries(5)).toEqual([]);
  await clock.advance(10_000);
  replicator.receive(new ReplicaBatch('p', [[5, 1, 'carol', 1, state(1)]]));
  expect(replicator.handOffEntries(5)).toEqual([[5, 1, 'carol', 1, state(1)]]);
});

// What another node sends, malformed or hostile (from an adversarial review): dropped with a warning, never a thrown
// exception, a NaN in the books, or a shard refused for good.

test('a ReplicaAnswer with a non-integer epoch is dropped: the restore goes on without it, never at epoch NaN', async () => {
  const { replicator, clock, logger } = backup();
  let restoredAt: number | undefined;
  replicator.restore(3, ['p', 'me', 'q'], (epoch) => { restoredAt = epoch; });
  replicator.receive(new ReplicaAnswer(3, 'p', NaN, []));
  replicator.receive(new ReplicaAnswer(3, 'q', 1, []));
  expect(restoredAt).toBeUndefined(); // p has not answered, as far as the restore knows
  await clock.advance(5_000);
  expect(restoredAt).toBe(2);
  expect(logger.entries.some((e) => e.message.includes('dropped a malformed ReplicaAnswer'))).toBe(true);
});

test('a ReplicaAnswer entry whose state is not bytes is left out: the byte count stays a number', () => {
  const { replicator } = backup();
  replicator.restore(3, ['p', 'me', 'q'], () => undefined);
  replicator.receive(new ReplicaAnswer(3, 'p', 1, [[3, 1, 'x', 1, 'not bytes' as never]]));
  replicator.receive(new ReplicaAnswer(3, 'q', 1, []));
  expect(replicator.summary().bytes).toBe(0);
});

test('a ReplicaBatch or ReplicaAcks whose entries are not lists is dropped, not thrown out of receive', () => {
  const { replicator } = backup();
  expect(() => replicator.receive(new ReplicaBatch('p', null as never))).not.toThrow();
  expect(() => replicator.receive(new ReplicaBatch('p', [null] as never))).not.toThrow();
  expect(() => replicator.receive(new ReplicaAcks('p', null as never, []))).not.toThrow();
});

test('a ReplicaQuery from a requester that never fences (it crashed, or never was) refuses the holder\'s states 10 s at most', async () => {
  const { replicator, lastAcks, clock } = backup();
  replicator.receive(new ReplicaQuery(3, 'ghost'));
  replicator.receive(new ReplicaBatch('p', [[3, 1, 'a', 1, Uint8Array.of(1)]]));
  expect((await lastAcks()).refused).toEqual([[3, 2]]);
  await clock.advance(10_000);
  replicator.receive(new ReplicaBatch('p', [[3, 1, 'a', 1, Uint8Array.of(1)]]));
  replicator.receive(new ReplicaBatch('p', [[3, 5, 'a', 2, Uint8Array.of(2)]]));
  expect((await lastAcks()).refused).toEqual([]);
});

test('a ReplicaFence at an epoch no holder can pass is dropped', async () => {
  const { replicator, lastAcks } = backup();
  replicator.receive(new ReplicaFence(3, Number.MAX_VALUE, 'anyone'));
  replicator.receive(new ReplicaBatch('p', [[3, 7, 'a', 1, Uint8Array.of(1)]]));
  expect((await lastAcks()).refused).toEqual([]);
});

test('a restore stops waiting for a member declared down meanwhile (it will not answer), without its timeout', () => {
  const live = new Set(['p', 'me', 'q']);
  const ring = HashRing.of(['p', 'me', 'q'], { shardCount: 16 });
  const clock = new ManualClock();
  const sent: Array<{ to: string; msg: unknown }> = [];
  const replicator = new Replicator({ factor: 3, syncCount: 1, timeoutMs: 1_000 }, {
    typeName: 'accounts', selfId: 'me', logger: new CapturingLogger(10), codec: new Codec(), clock, maxBytes: 1_000_000,
    shardCount: 16, placement: () => ring, isLive: (id) => live.has(id), liveMembers: () => [...live], epochOf: () => undefined, stepDown: (_shard, _requester, then) => then(),
    regionOn: () => { throw new Error('not used'); },
    tell: (to, msg) => sent.push({ to, msg }), sendBulk: (to, msg) => sent.push({ to, msg }),
    relayReply: (route, body) => sent.push({ to: route.node, msg: { relayed: route.id, body } }) > 0,
  });
  const done: number[] = [];
  replicator.restore(3, ['p', 'me', 'q'], (epoch) => done.push(epoch));
  expect(sent.filter((s) => s.msg instanceof ReplicaQuery).map((s) => s.to).sort()).toEqual(['p', 'q']);
  replicator.receive(new ReplicaAnswer(3, 'q', 4, [[3, 4, 'alice', 7, Uint8Array.of(7)]]));
  expect(done).toEqual([]); // p has not answered
  live.delete('p'); // declared down: its answer is not coming
  replicator.ringChanged(new Set());
  expect(done).toEqual([5]); // at once, above the newest epoch seen
  expect(replicator.stateOf(3, 'alice')).toEqual(Uint8Array.of(7));
});

/** A replicator on 'me' with the ring of `ringMembers`, 'p', 'me' and 'q' alive, the region's epoch `epoch`. */
function onRing(ringMembers: string[], syncCount: number, epoch: number | undefined, logger = new CapturingLogger(10)) {
  let held = epoch; // the shard's epoch here; a step-down ends it
  const ring = HashRing.of(ringMembers, { shardCount: 16 });
  const sent: Array<{ to: string; msg: unknown }> = [];
  const clock = new ManualClock();
  const replicator = new Replicator({ factor: 3, syncCount, timeoutMs: 1_000 }, {
    typeName: 'accounts', selfId: 'me', logger, codec: new Codec(), clock,
    maxBytes: 1_000_000, shardCount: 16, placement: () => ring, isLive: () => true, liveMembers: () => ['p', 'me', 'q'],
    epochOf: () => held, stepDown: (_shard, _requester, then) => { held = undefined; then(); }, regionOn: () => { throw new Error('not used'); },
    tell: (to, msg) => sent.push({ to, msg }), sendBulk: (to, msg) => sent.push({ to, msg }),
    relayReply: (route, body) => sent.push({ to: route.node, msg: { relayed: route.id, body } }) > 0,
  });
  return { replicator, sent, clock, hold: (at: number) => { held = at; } };
}

/** The cell a gate is given with an instance (see GatedCell): at rest unless `inMessage` is set. */
function cellOf(instance: object): { gatedInstance: object; inMessage: boolean; failures: number } {
  return { gatedInstance: instance, inMessage: false, failures: 0 };
}

/** The entries of the ReplicaBatches sent to `to`, one array per batch. */
const batchesTo = (sent: Array<{ to: string; msg: unknown }>, to: string) =>
  sent.filter((s) => s.to === to && s.msg instanceof ReplicaBatch).map((s) => (s.msg as ReplicaBatch).entries);

test('asynchronous writes: the first change of a window is captured at once, the next ones once, at its end', () => {
  const { replicator, sent, clock } = onRing(['p', 'me', 'q'], 0, 1);
  const account = { total: 0 };
  const cell = cellOf(account);
  const gate = replicator.gate(3, 'alice');
  let reads = 0;
  // captureState reads each field once per capture: counting reads of `total` counts captures
  const counted = { get total() { reads++; return account.total; } };
  Object.defineProperty(cell, 'gatedInstance', { value: counted });
  for (let n = 1; n <= 5; n++) {
    account.total = n;
    expect(gate(undefined, counted, undefined, cell)).toBeUndefined(); // nothing waits with syncCount 0
  }
  expect(reads).toBe(1); // the first message's state only
  expect(batchesTo(sent, 'p')).toEqual([]);
  clock.advanceSync(10);
  expect(reads).toBe(2); // once more, at the end of the window, for the four after it
  for (const backup of ['p', 'q']) {
    const batches = batchesTo(sent, backup);
    expect(batches).toHaveLength(1); // one batch, with the latest version only
    expect(batches[0]!.map(([shard, epoch, id, seq]) => [shard, epoch, id, seq])).toEqual([[3, 1, 'alice', 2]]);
  }
  expect(new Codec().decode(replicator.stateOf(3, 'alice')!)).toEqual({ total: 5 });
  // the next window: its first change is captured at once again
  account.total = 6;
  expect(gate(undefined, counted, undefined, cell)).toBeUndefined();
  expect(reads).toBe(3);
});

/** An async holder of alice whose second change (total 2) is deferred: the first (total 1) went out at once. */
function deferredOnce() {
  const { replicator, sent, clock } = onRing(['p', 'me', 'q'], 0, 1);
  const account = { total: 1 };
  const cell = cellOf(account);
  const gate = replicator.gate(3, 'alice');
  expect(gate(undefined, account, undefined, cell)).toBeUndefined();
  account.total = 2;
  expect(gate(undefined, account, undefined, cell)).toBeUndefined(); // deferred
  return { replicator, sent, clock, account, cell, gate };
}

test('asynchronous writes: an entity in the middle of a message at the end of the window is captured after it, never half changed', () => {
  const { replicator, sent, clock, account, cell, gate } = deferredOnce();
  cell.inMessage = true; // an async receive awaits, its change half made
  account.total = 99;
  clock.advanceSync(10);
  const seqs = () => batchesTo(sent, 'p').flat().map(([, , , seq, state]) => [seq, new Codec().decode(state)]);
  expect(seqs()).toEqual([[1, { total: 1 }]]); // the state of the first message only
  expect(clock.pendingTimers).toBe(0); // no window waits for the message to end
  account.total = 3;
  cell.inMessage = false;
  expect(gate(undefined, account, undefined, cell)).toBeUndefined(); // its end: the next window's first change
  clock.advanceSync(10);
  expect(seqs()).toEqual([[1, { total: 1 }], [2, { total: 3 }]]);
});

test('asynchronous writes: after a message of the entity failed, what the window deferred is not captured (its instance may be half changed)', () => {
  const { replicator, sent, clock, account, cell, gate } = deferredOnce();
  account.total = 999; // the next message changes it, then throws: no gate call
  cell.failures++;
  clock.advanceSync(10);
  expect(batchesTo(sent, 'p').flat().map(([, , , seq, state]) => [seq, new Codec().decode(state)])).toEqual([[1, { total: 1 }]]);
  expect(new Codec().decode(replicator.stateOf(3, 'alice')!)).toEqual({ total: 1 });
});

test('asynchronous writes: what an entity in a message had deferred when its holder answered a restorer is never captured after', () => {
  const { replicator, hold } = onRing(['p', 'me', 'q'], 0, 1);
  const account = { total: 1 };
  const cell = cellOf(account);
  const gate = replicator.gate(3, 'alice');
  expect(gate(undefined, account, undefined, cell)).toBeUndefined(); // (1, 1): total 1, sent
  account.total = 2;
  expect(gate(undefined, account, undefined, cell)).toBeUndefined(); // deferred
  cell.inMessage = true; // an async receive awaits when 'p' restores the shard: this node steps down, then answers
  replicator.receive(new ReplicaQuery(3, 'p'));
  account.total = 3;
  cell.inMessage = false;
  // its message ends after the step-down: not acknowledged (the restorer did not get it)
  expect(() => gate(undefined, account, undefined, cell)).toThrow(StaleOwnerError);
  // the restorer wrote total 10 at epoch 2, and hands the shard back at epoch 3: the entity starts from that
  hold(3);
  replicator.adopt(3, 3, [[3, 2, 'alice', 1, new Codec().encode({ total: 10 })]]);
  expect(new Codec().decode(replicator.stateOf(3, 'alice')!)).toEqual({ total: 10 });
});

test('asynchronous writes: a holder asked by a restorer answers with what the window deferred, though it stepped down', () => {
  const { replicator, sent } = onRing(['p', 'me', 'q'], 0, 1);
  const account = { total: 1 };
  const gate = replicator.gate(3, 'alice');
  expect(gate(undefined, account, undefined, cellOf(account))).toBeUndefined();
  account.total = 2;
  expect(gate(undefined, account, undefined, cellOf(account))).toBeUndefined(); // deferred, acknowledged
  replicator.receive(new ReplicaQuery(3, 'p')); // 'p' restores shard 3: this node steps down, then answers
  const answer = sent.find((s) => s.msg instanceof ReplicaAnswer)!.msg as ReplicaAnswer;
  expect(answer.entries.map(([, epoch, id, seq, state]) => [epoch, id, seq, new Codec().decode(state)])).toEqual([[1, 'alice', 2, { total: 2 }]]);
});

test('asynchronous writes: what is not captured yet is, before a passivated entity starts again and before a hand-off', () => {
  const { replicator } = onRing(['p', 'me', 'q'], 0, 1);
  const account = { total: 1 };
  const gate = replicator.gate(3, 'alice');
  expect(gate(undefined, account, undefined, cellOf(account))).toBeUndefined();
  account.total = 2;
  expect(gate(undefined, account, undefined, cellOf(account))).toBeUndefined(); // deferred; the entity stops (passivated) with it
  expect(new Codec().decode(replicator.stateOf(3, 'alice')!)).toEqual({ total: 2 });
  const bob = { total: 7 };
  const bobs = replicator.gate(3, 'bob');
  expect(bobs(undefined, bob, undefined, cellOf(bob))).toBeUndefined();
  bob.total = 8;
  expect(bobs(undefined, bob, undefined, cellOf(bob))).toBeUndefined();
  const entries = replicator.handOffEntries(3);
  expect(entries.map(([, , id, seq, state]) => [id, seq, new Codec().decode(state)]))
    .toEqual([['alice', 2, { total: 2 }], ['bob', 2, { total: 8 }]]);
});

test('asynchronous writes: a state that cannot be captured at the end of a window is logged, and fails the next message\'s ask', () => {
  const logger = new CapturingLogger(10);
  const { replicator, clock } = onRing(['p', 'me', 'q'], 0, 1, logger);
  const account: { total: unknown } = { total: 1 };
  const gate = replicator.gate(3, 'alice');
  expect(gate(undefined, account, undefined, cellOf(account))).toBeUndefined();
  account.total = () => 1; // a function: no codec encodes it
  expect(gate(undefined, account, undefined, cellOf(account))).toBeUndefined();
  clock.advanceSync(10);
  expect(logger.entries.filter((e) => e.level === 'error').map((e) => e.message).join('\n')).toMatch(/entity 'alice' could not be captured/);
  expect(() => gate(undefined, account, undefined, cellOf(account))).toThrow(/total/);
});

test('a restore fences every live member, those the ring leaves out too (else one restoring later took the same epoch)', () => {
  const { replicator, sent } = onRing(['p', 'me'], 1, undefined); // 'q' is alive but off the ring (no quorum)
  const done: number[] = [];
  replicator.restore(3, ['p', 'me', 'q'], (epoch) => done.push(epoch));
  replicator.receive(new ReplicaAnswer(3, 'p', 2, []));
  replicator.receive(new ReplicaAnswer(3, 'q', 2, [[3, 2, 'alice', 9, Uint8Array.of(9)]]));
  expect(done).toEqual([3]);
  expect(replicator.stateOf(3, 'alice')).toEqual(Uint8Array.of(9)); // the newest, from the member off the ring
  expect(sent.filter((s) => s.msg instanceof ReplicaFence).map((s) => s.to).sort()).toEqual(['p', 'q']);
});

test('a ring too small for the backups (the others lost quorum a while) is made up with the live members it leaves out', async () => {
  const { replicator, sent } = onRing(['me'], 2, 1); // 'p' and 'q' are alive, off the ring
  let acknowledged = false;
  const waiting = replicator.gate(3, 'alice')(undefined, { total: 5 }, undefined, cellOf({ total: 5 }));
  expect(waiting).toBeDefined(); // with the ring alone it was acknowledged at once, on no backup
  void waiting!.then(() => { acknowledged = true; });
  await Promise.resolve(); // the batches go at the end of the turn
  expect(sent.filter((s) => s.msg instanceof ReplicaBatch).map((s) => s.to).sort()).toEqual(['p', 'q']);
  replicator.receive(new ReplicaAcks('p', [[3, 'alice', 1]], []));
  await Promise.resolve();
  expect(acknowledged).toBe(false);
  replicator.receive(new ReplicaAcks('q', [[3, 'alice', 1]], []));
  await Promise.resolve();
  expect(acknowledged).toBe(true);
});

test('a restore fills the shard\'s backups at its own epoch, the one it fenced them at (not the region\'s older one)', async () => {
  const { replicator, sent } = onRing(['p', 'me', 'q'], 1, 2); // the region still says 2 until the restore's done comes
  const done: number[] = [];
  replicator.restore(3, ['p', 'me', 'q'], (epoch) => done.push(epoch));
  replicator.receive(new ReplicaAnswer(3, 'p', 2, [[3, 2, 'alice', 9, Uint8Array.of(9)]]));
  replicator.receive(new ReplicaAnswer(3, 'q', 2, []));
  expect(done).toEqual([3]);
  await Promise.resolve(); // fills go at the end of the turn
  const filled = sent.filter((s) => s.msg instanceof ReplicaBatch).flatMap((s) => (s.msg as ReplicaBatch).entries);
  expect(filled.length).toBeGreaterThan(0);
  // at the region's epoch 2 the backups, fenced at 3, refused it and kept older states, which a later restore took
  expect(filled.every(([, epoch]) => epoch === 3)).toBe(true);
});

test('a hand-off\'s epoch raises the fence: a restore this node answers afterwards takes a higher one', () => {
  const { replicator, sent } = onRing(['p', 'me', 'q'], 1, undefined);
  replicator.handingOff(3, 5);
  replicator.receive(new ReplicaQuery(3, 'p'));
  const answers = sent.filter((s) => s.msg instanceof ReplicaAnswer).map((s) => s.msg as ReplicaAnswer);
  expect(answers.map((a) => a.epoch)).toEqual([5]); // the restorer holds it at 6: never the hand-off receiver's 5
});

test('a fence above the epoch the shard is held at here (a hand-off that crossed a restore) makes this node step down', () => {
  const steppedDown: Array<{ shard: number; to: string }> = [];
  const ring = HashRing.of(['p', 'me', 'q'], { shardCount: 16 });
  const replicator = new Replicator({ factor: 3, syncCount: 1, timeoutMs: 1_000 }, {
    typeName: 'accounts', selfId: 'me', logger: new CapturingLogger(10), codec: new Codec(), clock: new ManualClock(),
    maxBytes: 1_000_000, shardCount: 16, placement: () => ring, isLive: () => true, liveMembers: () => ['p', 'me', 'q'],
    epochOf: (shard) => (shard === 3 ? 4 : undefined), regionOn: () => { throw new Error('not used'); },
    stepDown: (shard, requester, then) => { steppedDown.push({ shard, to: requester }); then(); },
    tell: () => undefined, sendBulk: () => undefined, relayReply: () => false,
  });
  replicator.receive(new ReplicaFence(3, 4, 'p')); // the same epoch: not a newer holder
  replicator.receive(new ReplicaFence(5, 9, 'p')); // not held here
  expect(steppedDown).toEqual([]);
  replicator.receive(new ReplicaFence(3, 5, 'q'));
  expect(steppedDown).toEqual([{ shard: 3, to: 'q' }]);
});

test('a write an entity makes after its shard was yielded to a restorer is not acknowledged (StaleOwnerError)', () => {
  const { replicator } = onRing(['p', 'me', 'q'], 1, undefined); // not held here any more
  // the restorer took this node's states when it answered, without this write: acknowledged, it was lost
  expect(() => replicator.gate(3, 'alice')(undefined, { total: 5 }, undefined, cellOf({ total: 5 }))).toThrow(StaleOwnerError);
});

test('a shard this node is the ring\'s primary of but does not hold (it lost quorum a moment) fills its backups from the versions kept here, once', async () => {
  const { replicator, sent, clock } = onRing(['p', 'me', 'q'], 2, undefined);
  const ring = HashRing.of(['p', 'me', 'q'], { shardCount: 16 });
  const mine = [...Array(16).keys()].find((s) => ring.preferenceList(s, 1)[0] === 'me')!;
  const theirs = [...Array(16).keys()].find((s) => ring.preferenceList(s, 1)[0] !== 'me')!;
  // kept here: written when this node held `mine` (epoch 4), and a backup's copy of `theirs`
  replicator.receive(new ReplicaBatch('p', [[mine, 4, 'alice', 7, Uint8Array.of(7)], [theirs, 2, 'bob', 3, Uint8Array.of(3)]]));
  await Promise.resolve();
  sent.length = 0;
  replicator.ringChanged(new Set()); // nobody holds `mine` until its next message
  await clock.advance(0); // a ring change's fills go in the next turn
  const filled = sent.filter((s) => s.msg instanceof ReplicaBatch)
    .flatMap((s) => (s.msg as ReplicaBatch).entries.map(([shard, epoch, id, seq]) => `${s.to} ${shard} ${id}@${epoch}.${seq}`));
  expect(filled.sort()).toEqual([`p ${mine} alice@4.7`, `q ${mine} alice@4.7`]); // at its own epoch; not `theirs`
  sent.length = 0;
  replicator.ringChanged(new Set()); // the same ring: they have it
  await clock.advance(0);
  expect(sent.filter((s) => s.msg instanceof ReplicaBatch)).toEqual([]);
});

test('a primary that neither holds a shard nor keeps its states 3 s after a ring change (its hand-off was refused) pulls them from the members', async () => {
  const { replicator, sent, clock } = onRing(['p', 'me', 'q'], 1, undefined);
  const ring = HashRing.of(['p', 'me', 'q'], { shardCount: 16 });
  const mine = [...Array(16).keys()].filter((s) => ring.ownerOf(s) === 'me');
  const theirs = [...Array(16).keys()].find((s) => ring.ownerOf(s) !== 'me')!;
  // a backup's copy of `theirs`, and one state of mine[0]: only the shards with nothing kept here are pulled
  replicator.receive(new ReplicaBatch('p', [[mine[0]!, 4, 'alice', 7, Uint8Array.of(7)], [theirs, 2, 'bob', 3, Uint8Array.of(3)]], false));
  sent.length = 0;
  replicator.ringChanged(new Set());
  // not at once (a hand-off in progress brings them), but those still idle and empty 3 s later, once
  const pullsSoFar = () => sent.filter((s) => s.msg instanceof ReplicaPull);
  await clock.advance(2_999);
  replicator.tick(new Set());
  expect(pullsSoFar()).toEqual([]);
  await clock.advance(1);
  replicator.tick(new Set());
  const pulls = pullsSoFar();
  expect(pulls.map((s) => s.to).sort()).toEqual(['p', 'q']);
  expect((pulls[0]!.msg as ReplicaPull).shards).toEqual(mine.slice(1));
  await clock.advance(10_000);
  replicator.tick(new Set());
  expect(pullsSoFar()).toHaveLength(2);
  // a member asked sends what it keeps of them, at their own epochs, as states nothing waits for; not what it lacks
  await clock.advance(0); // (the ring change's own fills: mine[0] to its backups, see above)
  sent.length = 0;
  replicator.receive(new ReplicaPull('q', [theirs, mine[0]!, 9_999]));
  expect(sent).toEqual([]); // from the next turn, as a ring change's fills
  await clock.advance(0);
  const batches = sent.filter((s) => s.msg instanceof ReplicaBatch).map((s) => ({ to: s.to, msg: s.msg as ReplicaBatch }));
  expect(batches.map((b) => b.to)).toEqual(['q']);
  expect(batches[0]!.msg.ack).toBe(false);
  expect(batches[0]!.msg.entries.map(([shard, epoch, id, seq]) => `${shard} ${id}@${epoch}.${seq}`).sort())
    .toEqual([`${mine[0]} alice@4.7`, `${theirs} bob@2.3`].sort());
});

test('a shard taken over by hand-off is filled, once the hand-off is done, only on the backups its sender did not fill', async () => {
  const { replicator, sent } = onRing(['p', 'me', 'q'], 1, 5); // held here at epoch 5 from now on
  const ring = HashRing.of(['p', 'me', 'q'], { shardCount: 16 });
  const shard = [...Array(16).keys()].find((s) => ring.preferenceList(s, 1)[0] === 'me')!;
  // 'p' handed it over: 'p' holds every state (it sent them), and so does 'old', the backup it filled
  replicator.adopt(shard, 5, [[shard, 4, 'alice', 7, Uint8Array.of(7)]], ['old', 'p']);
  replicator.fill(shard);
  await Promise.resolve();
  const filled = sent.filter((s) => s.msg instanceof ReplicaBatch)
    .flatMap((s) => (s.msg as ReplicaBatch).entries.map(([, epoch, id, seq]) => `${s.to} ${id}@${epoch}.${seq}`));
  expect(filled).toEqual(['q alice@5.7']); // not 'p' again (before, every state went to every backup once more)
  expect(replicator.holdersOf(shard).sort()).toEqual(['me', 'p', 'q']);
});

test('a ring change\'s fills go from the next turn on, about 1 MiB of states a turn, each state once to each new backup', async () => {
  const { replicator, sent, clock } = onRing(['p', 'me', 'q'], 1, 5); // every shard held here at epoch 5
  const state = new Uint8Array(1_500);
  const shards = [...Array(16).keys()];
  // 40 states of 1.5 kB per shard (960 kB in all, within the bound of 1 MB), taken over by hand-offs whose senders
  // filled no backup: 120 kB a shard to fill, on its 2 backups
  for (const shard of shards) replicator.adopt(shard, 5, Array.from({ length: 40 }, (_, i) => [shard, 5, `e${shard}-${i}`, 1, state] as const));
  await clock.advance(0);
  sent.length = 0;
  const filled = () => sent.filter((s) => s.msg instanceof ReplicaBatch).flatMap((s) => (s.msg as ReplicaBatch).entries.map(([, , id]) => `${s.to} ${id}`));
  replicator.ringChanged(new Set(shards));
  await Promise.resolve();
  expect(filled()).toEqual([]); // not in the ring change's turn
  await clock.advance(0); // the next turns: 9 shards (1.08 MB) pass 1 MiB, then the other 7
  const all = filled();
  expect(all).toHaveLength(16 * 2 * 40);
  expect(new Set(all).size).toBe(all.length); // none twice
  expect(sent.filter((s) => s.msg instanceof ReplicaBatch).length).toBeGreaterThanOrEqual(4); // per backup, per turn
  await clock.advance(1_000);
  expect(filled()).toHaveLength(16 * 2 * 40);
});
