// GossipState: the gossiped key-value map of one node as a value with pure merge rules (pekko Gossip.scala).
// Each key holds the versions none of which has seen another (a multi-value register, as Dynamo's
// siblings): merging two entries keeps the union's maximal versions, which is commutative, associative and
// idempotent, so every node that hears the same writes, in any order and any grouping, holds the same entry.
// Readers see one value, picked deterministically among concurrent versions (greatest writer id, then a
// tombstone, then the greatest bytes); the next write on any node sees all versions and replaces them.
// Deletes are tombstones (a version like any other, so a delete beats the write it saw) that are forgotten
// after a time-to-live; digests summarise the map for push-pull anti-entropy.
//
// Why not last-writer-wins with merged clocks: giving the winner the loser's clock makes it look as if it
// had seen versions it never saw, and then the result depends on the order of merges (not associative).

import { createHash } from 'node:crypto';
import type { NodeId } from '../transport/Transport';
import { encodeEntry } from './gossipMessages';
import type { DigestItem, GossipEntry, GossipVersion } from './gossipMessages';
import { VectorClock } from './VectorClock';

/** Orders concurrent versions: greater writer id first, then a tombstone, then greater bytes. */
function precedence(a: GossipVersion, b: GossipVersion): number {
  if (a.writer !== b.writer) return a.writer > b.writer ? -1 : 1;
  if (a.value === undefined || b.value === undefined) return a.value === undefined ? (b.value === undefined ? 0 : -1) : 1;
  return Buffer.compare(b.value, a.value);
}

/** Canonical order of an entry's versions, so equal entries encode (and hash) equal. */
function canonical(a: GossipVersion, b: GossipVersion): number {
  return precedence(a, b) || (a.clock.toString() < b.clock.toString() ? -1 : a.clock.toString() > b.clock.toString() ? 1 : 0);
}

/**
 * The merge of two entries of one key: the versions of both that no other version has seen (an equal clock
 * keeps one version, by precedence). Commutative, associative and idempotent.
 */
export function mergeEntry(a: GossipEntry, b: GossipEntry): GossipEntry {
  const all = [...a.versions, ...b.versions].sort(canonical);
  const kept: GossipVersion[] = [];
  for (const v of all) {
    if (all.some((w) => w.clock.compare(v.clock) === 'after')) continue;
    if (kept.some((k) => k.clock.compare(v.clock) === 'equal')) continue;
    kept.push(v);
  }
  return { key: a.key, versions: kept };
}

/** The version readers see: the first by precedence. */
export function winner(entry: GossipEntry): GossipVersion {
  return entry.versions[0] as GossipVersion;
}

/** 8 bytes (hex) identifying an entry: equal entries hash equal, and a collision is a 1-in-2^64 chance. */
export function hashEntry(entry: GossipEntry): string {
  return createHash('sha1').update(encodeEntry(entry)).digest().subarray(0, 8).toString('hex');
}

/** Two entries hold the same versions. */
export function sameEntry(a: GossipEntry, b: GossipEntry): boolean {
  return Buffer.compare(encodeEntry(a), encodeEntry(b)) === 0;
}

interface Slot {
  readonly entry: GossipEntry;
  /** When the entry became a tombstone on this node, on its Clock: the tombstone's time-to-live starts here. */
  readonly deletedAt: number | undefined;
  /** hashEntry(entry), computed when a digest first needs it. */
  hash?: string;
}

/** The key-value map of one node. Writes stamp the node's id on the key's vector clock. */
export class GossipState {
  private readonly slots = new Map<string, Slot>();

  constructor(readonly owner: NodeId) {}

  /** The value of `key` readers see (undefined if absent or deleted). */
  get(key: string): Uint8Array | undefined {
    const entry = this.slots.get(key)?.entry;
    return entry === undefined ? undefined : winner(entry).value;
  }

  /** What this node holds for `key`, tombstones included. */
  entry(key: string): GossipEntry | undefined {
    return this.slots.get(key)?.entry;
  }

  /** Every entry held, tombstones included. */
  entries(): GossipEntry[] {
    return [...this.slots.values()].map((s) => s.entry);
  }

  /** Number of keys held, tombstones included. */
  get size(): number {
    return this.slots.size;
  }

  /**
   * The entry a write of `value` (undefined: a delete) by this node makes: one version that has seen every
   * version held. Not yet stored; `apply` it (so the caller can check it first).
   */
  nextVersion(key: string, value: Uint8Array | undefined): GossipEntry {
    let clock = VectorClock.EMPTY;
    for (const v of this.slots.get(key)?.entry.versions ?? []) clock = clock.merge(v.clock);
    return { key, versions: [{ value, writer: this.owner, clock: clock.increment(this.owner) }] };
  }

  /** Writes `value` (or deletes, with undefined); returns the new entry. */
  write(key: string, value: Uint8Array | undefined, now: number): GossipEntry {
    const entry = this.nextVersion(key, value);
    this.put(entry, now);
    return entry;
  }

  /**
   * Merges an entry (learned from another node, or from `nextVersion`). Returns the resulting entry when it
   * differs from what was held (the caller passes it on and tells subscribers), or undefined when nothing changed.
   */
  apply(incoming: GossipEntry, now: number): GossipEntry | undefined {
    const current = this.slots.get(incoming.key)?.entry;
    const merged = mergeEntry(current ?? { key: incoming.key, versions: [] }, incoming);
    if (current !== undefined && sameEntry(current, merged)) return undefined;
    this.put(merged, now);
    return merged;
  }

  /** Forgets tombstones older than `ttlMs`; returns their keys. */
  expireTombstones(now: number, ttlMs: number): string[] {
    const expired: string[] = [];
    for (const [key, slot] of this.slots) {
      if (slot.deletedAt !== undefined && now - slot.deletedAt >= ttlMs) {
        this.slots.delete(key);
        expired.push(key);
      }
    }
    return expired;
  }

  /**
   * Every key with its entry's hash, sorted by key: what a push-pull digest carries. With `range`, only the
   * keys k with lo < k <= hi (no lower bound when `first`, no upper bound when `last`).
   */
  digest(range?: { readonly first: boolean; readonly last: boolean; readonly lo: string; readonly hi: string }): DigestItem[] {
    const items: DigestItem[] = [];
    for (const [key, slot] of this.slots) {
      if (range !== undefined && ((!range.first && key <= range.lo) || (!range.last && key > range.hi))) continue;
      slot.hash ??= hashEntry(slot.entry);
      items.push({ key, hash: slot.hash });
    }
    return items.sort((a, b) => compareKeys(a.key, b.key));
  }

  private put(entry: GossipEntry, now: number): void {
    const before = this.slots.get(entry.key);
    // A key is a tombstone when every version left is a delete; its time-to-live starts when it became one.
    const deleted = entry.versions.every((v) => v.value === undefined);
    const wasDeleted = before !== undefined && before.deletedAt !== undefined;
    this.slots.set(entry.key, { entry, deletedAt: deleted ? (wasDeleted ? before.deletedAt : now) : undefined });
  }
}

/** Key order for digests: by UTF-16 code units, the same on every node. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
