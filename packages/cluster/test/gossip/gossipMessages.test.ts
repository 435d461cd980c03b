// GOSSIP wire messages: round-trips, kinds keep their numbers, and entries, digests and requests are split
// into frames under the size limit however many keys there are, with digest ranges covering every key.

import { MalformedMessageError } from '@casty/core';
import { decodeGossip, encodeDigest, encodeEntries, encodeEntry, encodeRequests, GossipKind } from '../../src/gossip/gossipMessages';
import type { DigestItem, GossipEntry, GossipMessage } from '../../src/gossip/gossipMessages';
import { GossipState } from '../../src/gossip/GossipState';
import { VectorClock } from '../../src/gossip/VectorClock';

test('entries round-trip, tombstones included; kind numbers are fixed', () => {
  expect(GossipKind).toEqual({ ENTRIES: 0, DIGEST: 1, REQUEST: 2 });
  const entries: GossipEntry[] = [
    { key: 'actors/ñ', versions: [{ writer: 'b', clock: VectorClock.from([['a', 3], ['b', 1]]), value: Uint8Array.of(1, 2, 3) },
      { writer: 'a', clock: VectorClock.from([['a', 4]]), value: Uint8Array.of(4) }] },
    { key: 'gone', versions: [{ writer: 'a', clock: VectorClock.from([['a', 9]]), value: undefined }] },
  ];
  const [frame] = encodeEntries(entries.map(encodeEntry), 1024);
  const decoded = decodeGossip(frame as Uint8Array) as Extract<GossipMessage, { kind: 0 }>;
  const flat = (es: readonly GossipEntry[]) => es.map((e) => [e.key, e.versions.map((v) => [v.writer, v.clock.toString(), v.value])]);
  expect(flat(decoded.entries)).toEqual(flat(entries));
  expect(() => decodeGossip((frame as Uint8Array).subarray(0, 10))).toThrow(MalformedMessageError);
  expect(() => decodeGossip(Uint8Array.of(9))).toThrow(/message kind 9/);
});

test('3000 keys: every entries, digest and request frame stays under 2 KiB; digest parts cover all keys in order', () => {
  const state = new GossipState('a');
  for (let i = 0; i < 3000; i++) state.write(`actors/${String(i).padStart(5, '0')}`, Buffer.from(`node-${i % 7}`), 0);
  const limit = 2048;
  const entryFrames = encodeEntries(state.entries().map(encodeEntry), limit);
  const digestFrames = encodeDigest(state.digest(), limit);
  const requestFrames = encodeRequests(state.digest().map((i) => i.key), limit);
  for (const f of [...entryFrames, ...digestFrames, ...requestFrames]) expect(f.length).toBeLessThanOrEqual(limit);
  expect(entryFrames.length).toBeGreaterThan(10);
  const parts = digestFrames.map((f) => decodeGossip(f) as Extract<GossipMessage, { kind: 1 }>);
  expect(parts[0]?.first).toBe(true);
  expect(parts.at(-1)?.last).toBe(true);
  const all: DigestItem[] = parts.flatMap((p) => p.items);
  expect(all).toEqual(state.digest());
  for (const [i, p] of parts.entries()) {
    if (i > 0) expect(p.lo).toBe(parts[i - 1]?.hi);
    for (const item of p.items) {
      expect(p.first || item.key > p.lo).toBe(true);
      expect(p.last || item.key <= p.hi).toBe(true);
    }
  }
  const keys = requestFrames.flatMap((f) => (decodeGossip(f) as Extract<GossipMessage, { kind: 2 }>).keys);
  expect(keys.length).toBe(3000);
});
