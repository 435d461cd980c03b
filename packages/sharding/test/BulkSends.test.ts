// BulkSends: big messages to a node go when its connection has room, in order per node; what comes after them
// (`after`) waits for them; a node with room is not held up by another without; a failed send reaches `failed`.

import type { ActorRef } from '@casty/core';
import { ManualClock } from '@casty/core/testing';
import { BulkSends } from '../src/runtime/BulkSends';

function node(name: string, sent: string[], fail = false) {
  return { send: (msg: unknown) => {
    if (fail) return Promise.reject(new Error(`${name} refuses ${String(msg)}`));
    sent.push(`${name}:${String(msg)}`);
    return Promise.resolve();
  } } as unknown as ActorRef<unknown>;
}

test('messages wait for room in order per node, `after` runs once they are sent, other nodes go on', () => {
  const clock = new ManualClock();
  const room = new Map<ActorRef<unknown>, boolean>();
  const bulk = new BulkSends(clock, (ref) => room.get(ref) ?? true);
  const sent: string[] = [];
  const [x, y] = [node('x', sent), node('y', sent)];
  room.set(x, false);
  bulk.send('x', x, 'part1', 100, () => undefined);
  room.set(x, true); // room now, but part1 waits: part2 must not overtake it
  bulk.send('x', x, 'part2', 100, () => undefined);
  const done: string[] = [];
  bulk.after('x', x, () => done.push('x done'));
  bulk.send('y', y, 'other', 100, () => undefined);
  bulk.after('y', y, () => done.push('y done'));
  expect(sent).toEqual(['y:other']);
  expect(done).toEqual(['y done']);
  expect(bulk.pending('x')).toBe(true);
  expect(bulk.bytesWaiting).toBe(200);
  clock.advanceSync(1);
  expect(sent).toEqual(['y:other', 'x:part1', 'x:part2']);
  expect(done).toEqual(['y done', 'x done']);
  expect(bulk.pending('x')).toBe(false);
  expect(bulk.bytesWaiting).toBe(0);
});

test('a node without room keeps its messages until it has some; a failed send is reported, not thrown', async () => {
  const clock = new ManualClock();
  let roomy = false;
  const bulk = new BulkSends(clock, () => roomy);
  const sent: string[] = [];
  const failures: unknown[] = [];
  bulk.send('z', node('z', sent, true), 'doomed', 10, (error) => failures.push(error));
  for (let i = 0; i < 5; i++) clock.advanceSync(1);
  expect(bulk.pending('z')).toBe(true);
  roomy = true;
  clock.advanceSync(1);
  await Promise.resolve();
  expect(bulk.pending('z')).toBe(false);
  expect(failures.map(String)).toEqual(['Error: z refuses doomed']);
});

test('small sends go without a timer; about TURN_BYTES go in a turn, the rest at the next look', () => {
  const clock = new ManualClock();
  const bulk = new BulkSends(clock, () => true);
  const sent: string[] = [];
  const x = node('x', sent);
  // replicated writes, one small batch each: no timer per send (it woke the process 1 ms later, for nothing)
  for (let i = 0; i < 100; i++) bulk.send('x', x, `small${i}`, 150, () => undefined);
  expect(sent).toHaveLength(100);
  expect(clock.pendingTimers).toBe(0);
  // a hand-off's parts: 2 MiB go in this turn, the next waits for the next look
  for (let i = 0; i < 3; i++) bulk.send('x', x, `part${i}`, 1024 * 1024, () => undefined);
  expect(sent.slice(100)).toEqual(['x:part0', 'x:part1']);
  expect(bulk.pending('x')).toBe(true);
  clock.advanceSync(1);
  expect(sent.slice(100)).toEqual(['x:part0', 'x:part1', 'x:part2']);
  expect(bulk.pending('x')).toBe(false);
});
