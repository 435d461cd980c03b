// Requests this node sent to other nodes and still waits on (asks and lookups), by correlation id: each is
// settled by its reply, by its timeout (AskTimeoutError), or at once when the node it waits on goes down
// (NodeUnavailableError), so no caller waits out a timeout for a node known to be gone. Timeouts are kept by
// core's AskRegistry (FIFO queues per timeout value, one clock timer), not by a timer per request.

import type { Clock } from '@casty/core';
import { AskRegistry, type PendingAsk } from '@casty/core/internal';
import { classNameOf } from '@casty/core';
import type { NodeAddress, NodeId } from '../transport/Transport';
import { MAX_U32 } from './envelope';
import { NodeUnavailableError } from './NodeUnavailableError';

/** What a request was sent to: `path` names it in errors (a ref's path, or a node for a lookup). */
export interface RequestTarget {
  readonly path: string;
  readonly nodeId: NodeId;
}

/** The requests waiting for a reply from another node. */
export class PendingReplies {
  private nextId = 1;
  private readonly entries = new Map<number, PendingAsk>();
  private readonly registry: AskRegistry;

  constructor(clock: Clock) {
    this.registry = new AskRegistry(clock);
  }

  /** Requests still waiting. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Registers a request for `message` to `target` and returns its id (1 to 2^32 - 1, not reused before
   * 4 billion more requests); after `timeoutMs` it rejects with AskTimeoutError.
   */
  add(target: RequestTarget, message: unknown, timeoutMs: number,
    resolve: (value: never) => void, reject: (error: unknown) => void): number {
    const id = this.nextId;
    // Ids are u32 on the wire; after 4 billion requests they start over (none that old is still waiting).
    this.nextId = id === MAX_U32 ? 1 : id + 1;
    const entries = this.entries;
    // The registry rejects on timeout without telling us, so the rejection itself forgets the id.
    entries.set(id, this.registry.create(message, target, timeoutMs, resolve, (error) => {
      entries.delete(id);
      reject(error);
    }));
    return id;
  }

  /** Resolves request `id` with `value`; false when it is unknown (already settled, or never sent). */
  resolve(id: number, value: unknown): boolean {
    const ask = this.entries.get(id);
    if (ask === undefined) return false;
    this.entries.delete(id);
    ask.resolve(value);
    return true;
  }

  /** Rejects request `id` with `error`; false when it is unknown. */
  reject(id: number, error: unknown): boolean {
    const ask = this.entries.get(id);
    if (ask === undefined) return false;
    ask.reject(error);
    return true;
  }

  /** Rejects every request waiting on `nodeId` with NodeUnavailableError; returns how many. */
  rejectNode(nodeId: NodeId, address: NodeAddress, reason: string): number {
    return this.rejectIds(this.idsOf(nodeId), nodeId, address, reason);
  }

  /** The ids of the requests waiting on `nodeId` now. */
  idsOf(nodeId: NodeId): number[] {
    const ids: number[] = [];
    for (const [id, ask] of this.entries) if ((ask.target as RequestTarget).nodeId === nodeId) ids.push(id);
    return ids;
  }

  /** Rejects, as rejectNode does, those of `ids` (requests to `nodeId`) that still wait. */
  rejectIds(ids: readonly number[], nodeId: NodeId, address: NodeAddress, reason: string): number {
    let count = 0;
    for (const id of ids) {
      const ask = this.entries.get(id);
      if (ask === undefined || (ask.target as RequestTarget).nodeId !== nodeId) continue;
      ask.reject(new NodeUnavailableError(nodeId, address, describeRequest(ask), reason));
      count++;
    }
    return count;
  }

  /** Rejects every waiting request with `makeError()` (at shutdown). */
  rejectAll(makeError: () => unknown): void {
    for (const ask of [...this.entries.values()]) ask.reject(makeError());
  }
}

function describeRequest(ask: PendingAsk): string {
  return `the ask of ${classNameOf(ask.message)} to ${ask.target.path}`;
}
