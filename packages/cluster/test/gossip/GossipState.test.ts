// GossipState as a value: merge is commutative, idempotent and associative (so delivery order does not
// matter); concurrent writes resolve the same way everywhere (greater writer id wins); a delete beats the
// write it saw; tombstones expire on the Clock; digests are sorted and cover key ranges.

import { GossipState, mergeEntry, sameEntry } from '../../src/gossip/GossipState';
import type { GossipEntry } from '../../src/gossip/gossipMessages';
import { VectorClock } from '../../src/gossip/VectorClock';
import { seededRandom } from '../../src/testing/seededRandom';

const SEED = 12;
const text = (s: string) => Buffer.from(s);

/** An entry of one version, or the merge of two: arbitrary clocks, writers and values (not only realistic histories). */
function randomEntry(random: () => number): GossipEntry {
  const one = (): GossipEntry => {
    const clock = VectorClock.from(['a', 'b', 'c'].map((n) => [n, Math.floor(random() * 3)] as const));
    const writer = ['a', 'b', 'c'][Math.floor(random() * 3)] as string;
    const value = random() < 0.2 ? undefined : text(`v${Math.floor(random() * 3)}`);
    return { key: 'k', versions: [{ writer, clock, value }] };
  };
  return random() < 0.3 ? mergeEntry(one(), one()) : one();
}

const show = (e: GossipEntry) => e.versions.map((v) => `${v.writer}:${v.value === undefined ? '-' : Buffer.from(v.value).toString()}@${v.clock}`).join(' | ');

test(`mergeEntry is commutative, associative and idempotent (seed ${SEED})`, () => {
  const random = seededRandom(SEED);
  for (let i = 0; i < 1000; i++) {
    const [x, y, z] = [randomEntry(random), randomEntry(random), randomEntry(random)];
    const where = `seed ${SEED}, case ${i}: ${show(x)} ${show(y)} ${show(z)}`;
    expect([where, show(mergeEntry(x, y))]).toEqual([where, show(mergeEntry(y, x))]);
    expect([where, show(mergeEntry(mergeEntry(x, y), z))]).toEqual([where, show(mergeEntry(x, mergeEntry(y, z)))]);
    expect([where, sameEntry(mergeEntry(x, x), x)]).toEqual([where, true]);
  }
});

test('concurrent writes: every node ends with the same winner, whatever the order it hears them in', () => {
  const a = new GossipState('node-a');
  const b = new GossipState('node-b');
  const wa = a.write('actors/x', text('on a'), 0);
  const wb = b.write('actors/x', text('on b'), 0);
  const c = new GossipState('node-c');
  const d = new GossipState('node-d');
  c.apply(wa, 0);
  c.apply(wb, 0);
  d.apply(wb, 0);
  d.apply(wa, 0);
  a.apply(wb, 0);
  b.apply(wa, 0);
  for (const s of [a, b, c, d]) {
    expect(Buffer.from(s.get('actors/x') as Uint8Array).toString()).toBe('on b'); // 'node-b' > 'node-a'
    // Both versions are kept (neither saw the other); readers see the same one everywhere.
    expect(s.entry('actors/x')?.versions.map((v) => v.clock.toString())).toEqual(['{node-b:1}', '{node-a:1}']);
  }
  // A later write that saw both wins over either.
  const next = c.write('actors/x', text('after'), 0);
  expect(next.versions[0]?.clock.toString()).toBe('{node-a:1, node-b:1, node-c:1}');
  expect(a.apply(next, 0)?.versions.map((v) => v.value)).toEqual([text('after')]);
});

test('a delete beats the write it saw; a tombstone expires after its time-to-live', () => {
  const a = new GossipState('a');
  const b = new GossipState('b');
  b.apply(a.write('k', text('v'), 0), 0);
  const tombstone = b.write('k', undefined, 1_000);
  expect(a.apply(tombstone, 1_500)?.versions.map((v) => v.value)).toEqual([undefined]);
  expect(a.get('k')).toBeUndefined();
  expect(a.apply(a.entries()[0] as GossipEntry, 1_500)).toBeUndefined(); // nothing new
  expect(a.expireTombstones(2_000, 1_000)).toEqual([]); // learned at 1500: 500 ms old
  expect(a.expireTombstones(2_500, 1_000)).toEqual(['k']);
  expect(a.size).toBe(0);
  expect(b.expireTombstones(2_000, 1_000)).toEqual(['k']);
});

test('digests are sorted by key, and a range selects lo < key <= hi', () => {
  const s = new GossipState('a');
  for (const k of ['d', 'b', 'a', 'c']) s.write(k, text(k), 0);
  expect(s.digest().map((i) => i.key)).toEqual(['a', 'b', 'c', 'd']);
  expect(s.digest({ first: false, last: false, lo: 'a', hi: 'c' }).map((i) => i.key)).toEqual(['b', 'c']);
  expect(s.digest({ first: true, last: false, lo: '', hi: 'b' }).map((i) => i.key)).toEqual(['a', 'b']);
  expect(s.digest({ first: false, last: true, lo: 'c', hi: '' }).map((i) => i.key)).toEqual(['d']);
  const before = s.digest()[0]?.hash;
  s.write('a', text('changed'), 0);
  expect(s.digest()[0]?.hash).not.toBe(before);
});
