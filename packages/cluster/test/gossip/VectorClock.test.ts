// VectorClock: ordering, and merge as a join (commutative, associative, idempotent) on seeded random clocks.

import { VectorClock } from '../../src/gossip/VectorClock';
import { seededRandom } from '../../src/testing/seededRandom';

const SEED = 11;

function randomClock(random: () => number): VectorClock {
  return VectorClock.from(['a', 'b', 'c', 'd'].map((n) => [n, Math.floor(random() * 4)] as const));
}

test('increment, compare: before, after, equal, concurrent', () => {
  const a = VectorClock.EMPTY.increment('a');
  const ab = a.increment('b');
  const ac = a.increment('c');
  expect(a.compare(ab)).toBe('before');
  expect(ab.compare(a)).toBe('after');
  expect(ab.compare(VectorClock.from([['a', 1], ['b', 1]]))).toBe('equal');
  expect(ab.compare(ac)).toBe('concurrent');
  expect(ab.merge(ac).toString()).toBe('{a:1, b:1, c:1}');
  expect(VectorClock.EMPTY.compare(VectorClock.from([['x', 0]]))).toBe('equal');
});

test(`merge is commutative, associative, idempotent and an upper bound (seed ${SEED})`, () => {
  const random = seededRandom(SEED);
  for (let i = 0; i < 500; i++) {
    const [x, y, z] = [randomClock(random), randomClock(random), randomClock(random)];
    const where = `seed ${SEED}, case ${i}: ${x} ${y} ${z}`;
    expect([where, x.merge(y).compare(y.merge(x))]).toEqual([where, 'equal']);
    expect([where, x.merge(y).merge(z).compare(x.merge(y.merge(z)))]).toEqual([where, 'equal']);
    expect([where, x.merge(x).compare(x)]).toEqual([where, 'equal']);
    expect([where, ['after', 'equal'].includes(x.merge(y).compare(x))]).toEqual([where, true]);
    // compare is antisymmetric
    const flip = { before: 'after', after: 'before', equal: 'equal', concurrent: 'concurrent' } as const;
    expect([where, y.compare(x)]).toEqual([where, flip[x.compare(y)]]);
  }
});
