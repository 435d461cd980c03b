// TransmitLimitedQueue: the retransmit limit formula, order (fewest sends, then newest), invalidation of
// an older update about the same subject, and packing into a byte budget.

import { retransmitLimit, TransmitLimitedQueue } from '../../src/internal/broadcastQueue';

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

test('retransmitLimit is mult * ceil(log10(n + 1)), as memberlist', () => {
  expect(retransmitLimit(4, 0)).toBe(0);
  expect(retransmitLimit(4, 1)).toBe(4);
  expect(retransmitLimit(4, 9)).toBe(4);
  expect(retransmitLimit(4, 10)).toBe(8);
  expect(retransmitLimit(4, 99)).toBe(8);
  expect(retransmitLimit(4, 100)).toBe(12);
  expect(retransmitLimit(3, 1000)).toBe(12);
});

test('newest first among equals, least transmitted first overall; each update leaves after its limit', () => {
  const q2 = new TransmitLimitedQueue(2, () => 5); // limit 2 * ceil(log10 6) = 2
  q2.enqueue('a', bytes(10));
  q2.enqueue('b', bytes(10));
  expect(q2.orderedKeys()).toEqual(['b', 'a']);
  expect(q2.take(0, 15).length).toBe(1); // only b fits
  expect(q2.orderedKeys()).toEqual(['a', 'b']); // a has 0 sends now, b has 1
  q2.enqueue('c', bytes(10));
  expect(q2.orderedKeys()).toEqual(['c', 'a', 'b']);
  expect(q2.take(0, 1000).length).toBe(3);
  expect(q2.orderedKeys()).toEqual(['c', 'a']); // b reached 2 sends
  q2.take(0, 1000);
  expect(q2.size).toBe(0);
});

test('a newer update about the same key replaces the older one', () => {
  const q = new TransmitLimitedQueue(4, () => 10);
  q.enqueue('n1', bytes(5, 1));
  q.enqueue('n2', bytes(5, 2));
  q.enqueue('n1', bytes(5, 3));
  expect(q.size).toBe(2);
  const sent = q.take(0, 1000);
  expect(sent.map((m) => m[0])).toEqual([3, 2]);
});

test('packing: fills the budget with what fits, counting per-update overhead, skipping what does not', () => {
  const q = new TransmitLimitedQueue(4, () => 10);
  q.enqueue('small', bytes(10));
  q.enqueue('big', bytes(100));
  q.enqueue('mid', bytes(40));
  // newest first: mid (40+2), then big (102) does not fit in 60-42, small (12) does.
  const out = q.take(2, 60);
  expect(out.map((m) => m.length)).toEqual([40, 10]);
  expect(out.reduce((s, m) => s + m.length + 2, 0)).toBeLessThanOrEqual(60);
  q.prune(1);
  expect(q.orderedKeys()).toEqual(['big']);
});
