// The per-origin message numbers a shard keeps (the first origin in fields, the others in a map).

import { Sequences } from '../src/runtime/Sequences';

test('each origin keeps its own next number, the first and the others alike, and all are listed for a hand-off', () => {
  const sequences = new Sequences();
  expect(sequences.get(7)).toBeUndefined();
  sequences.set(7, 2);
  sequences.set(2 ** 52 + 1, 5);
  sequences.set(9, 1);
  sequences.set(7, 3);
  expect([sequences.get(7), sequences.get(2 ** 52 + 1), sequences.get(9), sequences.get(8)]).toEqual([3, 5, 1, undefined]);
  expect(new Sequences(sequences.entries()).entries()).toEqual([[7, 3], [2 ** 52 + 1, 5], [9, 1]]);
  expect(new Sequences().entries()).toEqual([]);
});
