// The GOSSIP protocol's wire messages: entries (deltas, or answers in a push-pull), digests of what a node
// holds (for push-pull anti-entropy), and requests for entries. Every frame is one message; whatever the
// number of keys, a sender splits its entries, digests and requests into frames under maxMessageBytes.

import type { NodeId } from '../transport/Transport';
import { ByteReader, ByteWriter, chunkBySize, concatBytes } from '../internal/bytes';
import { VectorClock } from './VectorClock';

/**
 * Message kinds, the first byte of every GOSSIP frame.
 *
 * This list is ONLY APPENDED TO: the numbers are on the wire, so a kind is never reused or renumbered.
 */
export const GossipKind = {
  /** Entries to merge: `[u16 count, entry...]`. */
  ENTRIES: 0,
  /** What the sender holds in a key range: `[flags, lo, hi, u16 count, (key, 8-byte hash)...]`. */
  DIGEST: 1,
  /** Keys whose entries the sender wants: `[u16 count, key...]`. */
  REQUEST: 2,
} as const;

/** One write of a key. `value` undefined is a tombstone (the key was deleted). */
export interface GossipVersion {
  readonly value: Uint8Array | undefined;
  readonly clock: VectorClock;
  /** The node that wrote it: the deterministic tie-break between concurrent writes. */
  readonly writer: NodeId;
}

/**
 * What a node holds for one key: the versions none of which has seen another (usually one; several after
 * concurrent writes, until a write that saw them all replaces them). Sorted canonically (see GossipState).
 */
export interface GossipEntry {
  readonly key: string;
  readonly versions: readonly GossipVersion[];
}

/** One key of a digest. */
export interface DigestItem {
  readonly key: string;
  /** 8 bytes identifying the entry's version (see GossipState.hashEntry). */
  readonly hash: string;
}

/**
 * A digest part covers the keys k with lo < k <= hi, sorted: a part with `first` has no lower bound and one
 * with `last` no upper bound, so a receiver knows which of its own keys the sender lacks.
 */
export interface DigestPart {
  readonly first: boolean;
  readonly last: boolean;
  readonly lo: string;
  readonly hi: string;
  readonly items: readonly DigestItem[];
}

export type GossipMessage =
  | { readonly kind: typeof GossipKind.ENTRIES; readonly entries: readonly GossipEntry[] }
  | ({ readonly kind: typeof GossipKind.DIGEST } & DigestPart)
  | { readonly kind: typeof GossipKind.REQUEST; readonly keys: readonly string[] };

const TOMBSTONE = 1;
const FIRST = 1;
const LAST = 2;
const HASH_BYTES = 8;
/** Kind and u16 count. */
export const LIST_HEADER_BYTES = 3;
const MAX_ITEMS = 0xffff;

/** The bytes of one entry (also what its version hash is computed from). */
export function encodeEntry(e: GossipEntry): Uint8Array {
  const w = new ByteWriter(32).str(e.key).u16(e.versions.length);
  for (const v of e.versions) {
    w.str(v.writer).u8(v.value === undefined ? TOMBSTONE : 0);
    const counters = v.clock.entries();
    w.u16(counters.length);
    for (const [node, counter] of counters) w.str(node).u32(counter);
    if (v.value !== undefined) w.bytes(v.value);
  }
  return w.finish();
}

function decodeEntry(r: ByteReader): GossipEntry {
  const key = r.str();
  const count = r.u16();
  if (count === 0) r.fail(`entry '${key}' has no version`);
  const versions: GossipVersion[] = [];
  for (let i = 0; i < count; i++) {
    const writer = r.str();
    const tombstone = (r.u8() & TOMBSTONE) !== 0;
    const n = r.u16();
    const counters: Array<[string, number]> = [];
    for (let j = 0; j < n; j++) counters.push([r.str(), r.u32()]);
    versions.push({ writer, clock: VectorClock.from(counters), value: tombstone ? undefined : r.bytes() });
  }
  return { key, versions };
}

/** ENTRIES frames of already-encoded entries, each within `maxBytes` (an entry over it goes alone). */
export function encodeEntries(encoded: readonly Uint8Array[], maxBytes: number): Uint8Array[] {
  return chunkBySize(encoded, LIST_HEADER_BYTES, maxBytes)
    .flatMap((part) => splitCount(part))
    .map((part) => concatBytes([new ByteWriter(LIST_HEADER_BYTES).u8(GossipKind.ENTRIES).u16(part.length).finish(), ...part]));
}

/** REQUEST frames for `keys`, each within `maxBytes`. */
export function encodeRequests(keys: readonly string[], maxBytes: number): Uint8Array[] {
  const encoded = keys.map((k) => new ByteWriter(2 + k.length).str(k).finish());
  return chunkBySize(encoded, LIST_HEADER_BYTES, maxBytes)
    .flatMap((part) => splitCount(part))
    .filter((part) => part.length > 0)
    .map((part) => concatBytes([new ByteWriter(LIST_HEADER_BYTES).u8(GossipKind.REQUEST).u16(part.length).finish(), ...part]));
}

/** DIGEST frames for `items` (sorted by key), each within `maxBytes`; together they cover every key. */
export function encodeDigest(items: readonly DigestItem[], maxBytes: number): Uint8Array[] {
  const encoded = items.map((i) => new ByteWriter(2 + i.key.length + HASH_BYTES).str(i.key).raw(Buffer.from(i.hash, 'hex')).finish());
  // Kind, flags, count, and the two bounds: keys of the list, so no longer than its longest.
  const header = 4 + 2 * (2 + maxKeyBytes(items));
  const parts = chunkBySize(encoded, header, maxBytes).flatMap((part) => splitCount(part));
  let start = 0;
  return parts.map((part, i) => {
    const lo = i === 0 ? '' : (items[start - 1] as DigestItem).key;
    start += part.length;
    const hi = i === parts.length - 1 ? '' : (items[start - 1] as DigestItem).key;
    const flags = (i === 0 ? FIRST : 0) | (i === parts.length - 1 ? LAST : 0);
    return concatBytes([new ByteWriter(header).u8(GossipKind.DIGEST).u8(flags).str(lo).str(hi).u16(part.length).finish(), ...part]);
  });
}

function maxKeyBytes(items: readonly DigestItem[]): number {
  let max = 0;
  for (const i of items) max = Math.max(max, Buffer.byteLength(i.key));
  return max;
}

/** Splits a part that would overflow the u16 count. */
function splitCount(part: Uint8Array[]): Uint8Array[][] {
  if (part.length <= MAX_ITEMS) return [part];
  const out: Uint8Array[][] = [];
  for (let i = 0; i < part.length; i += MAX_ITEMS) out.push(part.slice(i, i + MAX_ITEMS));
  return out;
}

/** The message of a GOSSIP frame. @throws {MalformedMessageError} for truncated bytes or an unknown kind. */
export function decodeGossip(payload: Uint8Array): GossipMessage {
  const r = new ByteReader(payload, 'GOSSIP frame');
  const kind = r.u8();
  let message: GossipMessage;
  switch (kind) {
    case GossipKind.ENTRIES: {
      const n = r.u16();
      const entries: GossipEntry[] = [];
      for (let i = 0; i < n; i++) entries.push(decodeEntry(r));
      message = { kind, entries };
      break;
    }
    case GossipKind.DIGEST: {
      const flags = r.u8();
      const lo = r.str();
      const hi = r.str();
      const n = r.u16();
      const items: DigestItem[] = [];
      for (let i = 0; i < n; i++) {
        const key = r.str();
        items.push({ key, hash: Buffer.from([r.u8(), r.u8(), r.u8(), r.u8(), r.u8(), r.u8(), r.u8(), r.u8()]).toString('hex') });
      }
      message = { kind, first: (flags & FIRST) !== 0, last: (flags & LAST) !== 0, lo, hi, items };
      break;
    }
    case GossipKind.REQUEST: {
      const n = r.u16();
      const keys: string[] = [];
      for (let i = 0; i < n; i++) keys.push(r.str());
      message = { kind, keys };
      break;
    }
    default:
      return r.fail(`message kind ${kind} is not one this node knows (run the same Casty version on every node)`);
  }
  if (!r.done) r.fail('bytes left over after the message');
  return message;
}
