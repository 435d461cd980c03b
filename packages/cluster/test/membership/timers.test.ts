// Lifeguard's pieces on their own: memberlist's suspicion timeout formulas (values computed from
// memberlist's util.go and suspicion.go), the suspicion timer on a ManualClock, and local health awareness.

import { ManualClock } from '@casty/core/testing';
import { Awareness } from '../../src/membership/awareness';
import { remainingSuspicionTime, Suspicion, suspicionTimeout } from '../../src/membership/suspicion';

test('suspicionTimeout matches memberlist (mult 4, probe interval 1 s)', () => {
  // memberlist's TestSuspicionTimeout table per unit of multiplier: 5 -> 1000 ms (log10 below 1 is raised to 1),
  // 10 -> 1000, 50 -> 1698, 100 -> 2000, 1000 -> 3000; here times 4.
  expect(suspicionTimeout(4, 5, 1000)).toBe(4000);
  expect(suspicionTimeout(4, 10, 1000)).toBe(4000);
  expect(suspicionTimeout(4, 50, 1000)).toBe(6792);
  expect(suspicionTimeout(4, 100, 1000)).toBe(8000);
  expect(suspicionTimeout(4, 1000, 1000)).toBe(12000);
});

test('remainingSuspicionTime matches memberlist TestSuspicion_remainingSuspicionTime', () => {
  // (n, k, elapsed, min, max) -> remaining, the table in memberlist's suspicion_test.go (seconds -> ms).
  const cases: Array<[number, number, number, number, number, number]> = [
    [0, 3, 0, 2000, 30000, 30000],
    [1, 3, 2000, 2000, 30000, 14000],
    [2, 3, 3000, 2000, 30000, 4810],
    [3, 3, 4000, 2000, 30000, -2000],
    [4, 3, 5000, 2000, 30000, -3000],
    [5, 3, 10000, 2000, 30000, -8000],
  ];
  for (const [n, k, elapsed, min, max, want] of cases) expect(remainingSuspicionTime(n, k, elapsed, min, max)).toBe(want);
});

test('a suspicion starts at max, shrinks with confirmations from distinct nodes only, and fires on the Clock', async () => {
  const clock = new ManualClock();
  const fired: number[] = [];
  const s = new Suspicion(clock, 'a', 3, 2000, 30000, (n) => fired.push(clock.now(), n));
  expect(s.confirm('a')).toBe(false); // the raiser's own re-gossip is not a confirmation
  await clock.advance(2000);
  expect(s.confirm('b')).toBe(true); // total 14 s now
  expect(s.confirm('b')).toBe(false); // duplicate
  await clock.advance(1000);
  expect(s.confirm('c')).toBe(true); // total 7810 ms
  await clock.advance(4800);
  expect(fired).toEqual([]);
  await clock.advance(10);
  expect(fired).toEqual([7810, 2]);
  expect(s.confirm('d')).toBe(false); // spent
});

test('with no confirmations expected (k = 0) the timer starts at its minimum; cancel stops it', async () => {
  const clock = new ManualClock();
  const fired: number[] = [];
  new Suspicion(clock, 'a', 0, 2000, 30000, () => fired.push(clock.now()));
  const cancelled = new Suspicion(clock, 'a', 0, 2000, 30000, () => fired.push(-1));
  cancelled.cancel();
  await clock.advance(5000);
  expect(fired).toEqual([2000]);
});

test('awareness: score clamped to [0, max - 1], timeouts scaled by score + 1', () => {
  const a = new Awareness(8);
  expect(a.scale(500)).toBe(500);
  a.applyDelta(3);
  expect(a.scale(500)).toBe(2000);
  a.applyDelta(100);
  expect(a.score).toBe(7);
  expect(a.scale(1000)).toBe(8000);
  a.applyDelta(-100);
  expect(a.score).toBe(0);
});
