// Deadlines: timeouts of one duration, served by one timer. Each expires once, at its time, unless cancelled; a
// cancelled one never runs; thousands pending cost one timer; the queue does not keep what is done.

import { ManualClock } from '@casty/core/testing';
import { Deadlines } from '../src/Deadlines';

test('each deadline expires once, delayMs after it was added, unless cancelled; one timer serves them all', () => {
  const clock = new ManualClock();
  const deadlines = new Deadlines(clock, 100);
  const expired: string[] = [];
  const a = deadlines.add(() => expired.push(`a at ${clock.now()}`));
  clock.advanceSync(10);
  const b = deadlines.add(() => expired.push(`b at ${clock.now()}`));
  clock.advanceSync(10);
  deadlines.add(() => expired.push(`c at ${clock.now()}`));
  clock.advanceSync(1);
  for (let i = 0; i < 1_000; i++) deadlines.add(() => expired.push('later'));
  expect(clock.pendingTimers).toBe(1);
  deadlines.cancel(b);
  clock.advanceSync(78);
  expect(expired).toEqual([]);
  clock.advanceSync(1);
  expect(expired).toEqual(['a at 100']);
  expect(a.done).toBe(true);
  clock.advanceSync(20);
  expect(expired).toEqual(['a at 100', 'c at 120']);
  clock.advanceSync(100);
  expect(expired).toHaveLength(1_002);
  expect(deadlines.size).toBe(0);
  expect(clock.pendingTimers).toBe(0);
});

test('cancelled deadlines leave the queue once no pending one is ahead of them', () => {
  const clock = new ManualClock();
  const deadlines = new Deadlines(clock, 1_000);
  let expired = 0;
  // a write at a time, each acknowledged before the next: the queue never holds more than one
  let most = 0;
  for (let i = 0; i < 10_000; i++) {
    deadlines.cancel(deadlines.add(() => expired++));
    most = Math.max(most, deadlines.size);
  }
  expect(most).toBe(0);
  // one left pending at the head: what is cancelled behind it stays until the head goes, then is compacted
  const head = deadlines.add(() => expired++);
  for (let i = 0; i < 5_000; i++) deadlines.cancel(deadlines.add(() => expired++));
  expect(deadlines.size).toBe(5_001);
  deadlines.cancel(head);
  expect(deadlines.size).toBe(0);
  clock.advanceSync(2_000);
  expect(expired).toBe(0);
});
