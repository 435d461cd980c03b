// Requests this node sent to other nodes and still waits on (asks and lookups), by correlation id: each is
// settled by its reply, by its timeout (AskTimeoutError), or at once when the node it waits on goes down
// (NodeUnavailableError), so no caller waits out a timeout for a node known to be gone.

import { AskTimeoutError, classNameOf } from '@casty/core';
import type { Clock, TimerHandle } from '@casty/core';
import type { NodeAddress, NodeId } from '../transport/Transport';
import { MAX_U32 } from './envelope';
import { NodeUnavailableError } from './NodeUnavailableError';

interface Pending {
  readonly nodeId: NodeId;
  /** What the request was sent to, for error messages (a ref's path, or a node for a lookup). */
  readonly target: string;
  readonly message: unknown;
  readonly timeoutMs: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly timer: TimerHandle;
}

/** The requests waiting for a reply from another node. */
export class PendingReplies {
  private nextId = 1;
  private readonly entries = new Map<number, Pending>();

  constructor(private readonly clock: Clock) {}

  /** Requests still waiting. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Registers a request for `message` to `target` on `nodeId` and returns its id (1 to 2^32 - 1, not reused
   * before 4 billion more requests); after `timeoutMs` it rejects with AskTimeoutError.
   */
  add(nodeId: NodeId, target: string, message: unknown, timeoutMs: number,
    resolve: (value: never) => void, reject: (error: unknown) => void): number {
    const id = this.nextId;
    // Ids are u32 on the wire; after 4 billion requests they start over (none that old is still waiting).
    this.nextId = id === MAX_U32 ? 1 : id + 1;
    const timer = this.clock.setTimeout(() => this.expire(id), timeoutMs);
    this.entries.set(id, { nodeId, target, message, timeoutMs, resolve: resolve as (value: unknown) => void, reject, timer });
    return id;
  }

  /** Resolves request `id` with `value`; false when it is unknown (already settled, or never sent). */
  resolve(id: number, value: unknown): boolean {
    const entry = this.take(id);
    entry?.resolve(value);
    return entry !== undefined;
  }

  /** Rejects request `id` with `error`; false when it is unknown. */
  reject(id: number, error: unknown): boolean {
    const entry = this.take(id);
    entry?.reject(error);
    return entry !== undefined;
  }

  /** Rejects every request waiting on `nodeId` with NodeUnavailableError; returns how many. */
  rejectNode(nodeId: NodeId, address: NodeAddress, reason: string): number {
    let count = 0;
    for (const [id, entry] of this.entries) {
      if (entry.nodeId !== nodeId) continue;
      this.take(id);
      entry.reject(new NodeUnavailableError(nodeId, address, describeRequest(entry), reason));
      count++;
    }
    return count;
  }

  /** Rejects every waiting request with `makeError()` (at shutdown). */
  rejectAll(makeError: () => unknown): void {
    for (const id of [...this.entries.keys()]) this.reject(id, makeError());
  }

  private expire(id: number): void {
    const entry = this.entries.get(id);
    if (entry === undefined) return;
    this.entries.delete(id);
    entry.reject(new AskTimeoutError(entry.target, classNameOf(entry.message), entry.timeoutMs));
  }

  private take(id: number): Pending | undefined {
    const entry = this.entries.get(id);
    if (entry === undefined) return undefined;
    this.entries.delete(id);
    this.clock.clearTimeout(entry.timer);
    return entry;
  }
}

function describeRequest(entry: Pending): string {
  return `the ask of ${classNameOf(entry.message)} to ${entry.target}`;
}
