// Replication of a sharded type's entity state to the backups of each shard (the next factor - 1 nodes of the
// shard's preference list). One Replicator per region.
//
//   holder of shard s                                   each backup of s
//   after a message changed an entity's state:
//     capture it (bytes), version it (epoch, seq) ------> ReplicaBatch: keep the newest version per entity,
//     one batch per backup per turn, latest per entity      refuse an epoch older than the shard's fence
//   syncCount >= 1: the reply waits for that many   <---- ReplicaAcks
//   acks (or fails with ReplicationTimeoutError)
//
// The holder keeps the bytes of every entity of its shards too (passivated ones included): an entity that starts
// again starts from them, a hand-off carries them, and new backups are filled from them after a membership change.
// After a holder crashed, the next owner asks every member for what it holds of the shard (ReplicaQuery), takes the
// newest version of each entity, raises the shard's epoch above every one seen and fences the old holder out
// (ReplicaFence): a paused holder that comes back gets its snapshots refused, and its waiting asks fail with
// StaleOwnerError instead of being acknowledged.

import { captureState, stateUnchanged } from '@casty/core';
import type { TimerHandle } from '@casty/core';
import { REPLY_RELAYED } from '@casty/core/internal';
import type { GatedCell, RelayableReply, ReplyGate } from '@casty/core/internal';
import type { NodeId } from '@casty/cluster';
import type { Placement, RegionReplication, ReplicaEntry, ReplicationHost, ReplyRoute } from '@casty/sharding';
import { Deadlines } from './Deadlines';
import type { Deadline } from './Deadlines';
import { ReplicationBoundError, ReplicationTimeoutError, StaleOwnerError } from './errors';
import { ReplicaAcks, ReplicaAnswer, ReplicaBatch, ReplicaFence, ReplicaPull, ReplicaQuery } from './messages';
import type { ReplicaReply } from './messages';

/** A type's `replication` spawn option, checked (see parseReplication). */
export interface ReplicationSettings {
  /** Copies of each entity's state, the holder's included. */
  readonly factor: number;
  /** Backups that must hold a new state before its message is acknowledged: 0 none (async), -1 all. */
  readonly syncCount: number;
  /** How long an acknowledgement waits for them, in milliseconds. */
  readonly timeoutMs: number;
}

interface Version {
  epoch: number;
  seq: number;
  state: Uint8Array;
}

/** A message whose acknowledgement waits for backups. */
interface Waiter {
  readonly seq: number;
  readonly required: number;
  /** The backup that delivers its reply, and where to (see ReplicaReply); the reply is then not sent from here. */
  readonly relay: { readonly via: NodeId; readonly key: string } | undefined;
  readonly resolve: (how?: typeof REPLY_RELAYED) => void;
  readonly reject: (error: unknown) => void;
  readonly deadline: Deadline;
}

/** What the holder knows of an entity's backups: which version each acknowledged, and who waits for them. */
interface Primary {
  readonly acked: Map<NodeId, number>;
  waiters: Waiter[];
  /** With syncCount 0: the window of asynchronous writes (Replicator.window) its last captured state went out in. */
  window: number;
}

/** An entity whose state changed again in the window that sends its last captured one (see Replicator.deferred). */
interface Deferred {
  readonly shard: number;
  readonly id: string;
  readonly cell: GatedCell;
  /** Its cell's failures then: after another one, its instance is not captured (see settle). */
  readonly failures: number;
  /** The entity's stored version then: once another replaced it (a hand-off, a restore), it is not captured. */
  readonly version: Version | undefined;
}

/** A restore after a crash: the members still to answer, and the newest version of each entity so far. */
interface Restore {
  readonly waiting: Set<NodeId>;
  readonly found: Map<string, Version>;
  /** Who sent each version found (for the debug log). */
  readonly sources: Map<string, NodeId>;
  epoch: number;
  readonly done: (epoch: number) => void;
  readonly timer: TimerHandle;
}

/** How long a node keeps the states of a shard it no longer holds nor backs up (see ringChanged). */
const RETIRE_MS = 60_000;
/** How long a shard this node is the ring's primary of stays idle and without states here before it pulls them. */
const PULL_AFTER_MS = 3_000;
/** How long a restore waits for members to say what they hold of a shard before it goes on without them. */
const RESTORE_TIMEOUT_MS = 5_000;
/**
 * How long asynchronous writes gather before they go to the backups (with syncCount 0, what a crash can lose beyond
 * what is in flight; with syncCount N, to the backups past the first N). The backups a write waits for get it at the
 * end of the turn that made it.
 */
const ASYNC_FLUSH_MS = 10;
/** About the most bytes of states in one ReplicaBatch (the transport's frames carry at most 16 MiB). */
const MAX_BATCH_BYTES = 1024 * 1024;
/** About the most bytes of states a ring change's fills queue in one turn of the event loop (see ringChanged). */
const FILL_TURN_BYTES = 1024 * 1024;
const RESOLVED = Promise.resolve();
/** Least milliseconds between two warnings that the replica bound is reached. */
const BOUND_WARNING_MS = 10_000;

export class Replicator implements RegionReplication {
  /** Entity states by shard: of the shards this node holds, and of those it backs up. */
  private readonly stored = new Map<number, Map<string, Version>>();
  /** Per shard, the highest ownership epoch seen: snapshots of an older one are refused. */
  private readonly fences = new Map<number, number>();
  /** Shards a member is restoring after a crash: snapshots from anyone else are refused meanwhile. */
  private readonly restoringBy = new Map<number, { readonly node: NodeId; readonly since: number }>();
  /** Holder side: entities whose backups are tracked, by shard and id. */
  private readonly primaries = new Map<number, Map<string, Primary>>();
  /** Holder side: per backup, the entries to send at the end of this turn (the latest per entity). */
  private readonly outgoing = new Map<NodeId, Map<object, ReplicaEntry>>();
  private flushScheduled = false;
  /** Holder side: per shard, the backups that were sent its whole content. */
  private readonly filled = new Map<number, Set<NodeId>>();
  private readonly restores = new Map<number, Restore>();
  private bytes = 0;
  private warnedAt = -Infinity;

  /** The timeouts of the writes that wait for backups (settings.timeoutMs each). */
  private readonly deadlines: Deadlines;

  constructor(readonly settings: ReplicationSettings, private readonly host: ReplicationHost) {
    this.deadlines = new Deadlines(host.clock, settings.timeoutMs);
  }

  // ---- the holder ----

  /** The gate of an entity of `shard`: after each message, its state goes to the backups (see ReplyGate). */
  gate(shard: number, id: string): ReplyGate {
    return (_msg, actor, reply, cell) => this.changed(shard, id, actor, reply, cell);
  }

  /** The state an entity of a held shard starts from (it was passivated, or came with a hand-off or a restore). */
  stateOf(shard: number, id: string): Uint8Array | undefined {
    const primary = this.deferred.size > 0 ? this.primaries.get(shard)?.get(id) : undefined;
    if (primary !== undefined) this.settle(primary);
    return this.stored.get(shard)?.get(id)?.state;
  }

  private changed(shard: number, id: string, actor: object, reply: RelayableReply | undefined,
    cell: GatedCell): Promise<void | typeof REPLY_RELAYED> | undefined {
    const epoch = this.host.epochOf(shard);
    if (epoch === undefined) {
      // not held here any more: the shard was yielded to a restorer while this message was processed (a handler that
      // awaited, or a queued one before the entity's stop). The restorer took the states this node had when it
      // answered, without this one, so the write is on no replica: not acknowledged (answered, it was lost), and
      // what this window deferred of the entity is not captured later either (its instance holds this write)
      const primary = this.primaries.get(shard)?.get(id);
      if (primary !== undefined) this.deferred.delete(primary);
      throw new StaleOwnerError(`The message to entity '${id}' of '${this.host.typeName}' was processed on node ` +
        `'${this.host.selfId}' after shard ${shard} was taken over by another node: its change is not acknowledged`);
    }
    const primary = this.primary(shard, id);
    if (primary.window === this.window) {
      // asynchronous, and this window's flush sends a state of the entity's already: that flush captures it again,
      // once for every message of the window (capturing each message's state cost more than the rest of the write)
      const known = this.deferred.get(primary);
      const version = this.stored.get(shard)?.get(id);
      if (known?.cell !== cell || known.failures !== cell.failures || known.version !== version) {
        this.deferred.set(primary, { shard, id, cell, failures: cell.failures, version });
      }
      return undefined;
    }
    if (this.deferred.size > 0) this.deferred.delete(primary); // captured now
    const entities = this.shardStates(shard);
    const known = entities.get(id);
    // a StateCaptureError fails this message's ask, naming the field; an unchanged state is the known bytes themselves
    const state = captureState(actor, this.host.codec, known?.state);
    if (known !== undefined && state === known.state) {
      // unchanged: acknowledged when the last change is (a read does not see a write before its backups hold it)
      const last = primary.waiters[primary.waiters.length - 1];
      return last === undefined ? undefined : this.wait(shard, id, primary, last.seq, last.required, undefined);
    }
    const version: Version = { epoch, seq: (known?.seq ?? 0) + 1, state };
    if (!this.put(entities, id, version)) {
      // past this node's bound: not versioned, not sent (a later write would reuse the number its backups hold)
      throw new ReplicationBoundError(`The message to entity '${id}' of '${this.host.typeName}' was processed, but ` +
        `node '${this.host.selfId}' keeps ${this.bytes} bytes of entity state already and the new state ` +
        `(${state.byteLength} bytes) would pass maxReplicaBytes (${this.host.maxBytes}): it is not replicated`);
    }
    const entry: ReplicaEntry = [shard, epoch, id, version.seq, state];
    const { syncCount } = this.settings;
    let backups = this.backupsOf(shard);
    const required = syncCount === -1 ? backups.length : Math.min(syncCount, backups.length);
    // one backup to wait for, and the asker's node is a backup: it goes first, and its reply is a local one there
    // (the path of an unreplicated ask); which backup holds the write does not matter to a restore, which asks all
    const route = required === 1 ? reply?.relay as ReplyRoute | undefined : undefined;
    const asker = route?.node;
    if (asker !== undefined && asker !== backups[0] && backups.includes(asker)) backups = [asker, ...backups.filter((b) => b !== asker)];
    // the first `required` backups by the preference list (the next owner first; see asker above) get it at the end of this turn; the
    // others with the asynchronous writes, whose acknowledgements count too (a slow first backup is made up for).
    // Sent to every backup at once, a write woke every backup's process while the reply waited for one of them.
    for (let i = 0; i < backups.length; i++) this.queue(backups[i]!, primary, entry, i < required ? 'now' : 'later');
    if (syncCount === 0 && backups.length > 0) primary.window = this.window;
    if (required === 0) return undefined;
    return this.wait(shard, id, primary, version.seq, required, route === undefined ? undefined : this.relay(backups[0]!, entry, route, reply!.value));
  }

  /**
   * With one backup to wait for, that backup delivers the ask's reply (see ReplicaReply): the asker has it one hop
   * earlier than through an acknowledgement back here. A reply that does not encode goes the usual way (its ask fails
   * saying why).
   */
  private relay(backup: NodeId, entry: ReplicaEntry, route: ReplyRoute, value: unknown): Waiter['relay'] {
    let body: Uint8Array;
    try {
      body = this.host.codec.encode(value);
    } catch {
      return undefined;
    }
    let replies = this.replies.get(backup);
    if (replies === undefined) this.replies.set(backup, (replies = []));
    replies.push([entry[0], entry[1], entry[2], entry[3], route.node, route.id, body]);
    return { via: backup, key: replyKey(route.node, route.id) };
  }

  /** Holder side: per backup, the replies it delivers (see relay), sent with this turn's 'now' entries. */
  private readonly replies = new Map<NodeId, ReplicaReply[]>();

  private wait(shard: number, id: string, primary: Primary, seq: number, required: number,
    relay: Waiter['relay']): Promise<void | typeof REPLY_RELAYED> {
    if (this.acknowledgedBy(primary, seq) >= required) return Promise.resolve();
    return new Promise<void | typeof REPLY_RELAYED>((resolve, reject) => {
      const deadline = this.deadlines.add(() => {
        primary.waiters = primary.waiters.filter((w) => w.deadline !== deadline);
        const acknowledged = this.acknowledgedBy(primary, seq);
        reject(new ReplicationTimeoutError(`The message to entity '${id}' of '${this.host.typeName}' was processed, ` +
          `but only ${acknowledged} of the ${required} backups it waits for (syncCount ${this.settings.syncCount}) ` +
          `acknowledged its new state within ${this.settings.timeoutMs} ms; the change stands on node ` +
          `'${this.host.selfId}' and is lost if that node fails before its backups catch up`, acknowledged, required));
      });
      primary.waiters.push({ seq, required, relay, resolve, reject, deadline });
    });
  }

  /**
   * How many members acknowledged version `seq` (or newer) of the entity: the shard's backups, or its backups before
   * a membership change (they keep what they acknowledged for RETIRE_MS after they stop backing the shard up).
   */
  private acknowledgedBy(primary: Primary, seq: number): number {
    let n = 0;
    for (const [member, acked] of primary.acked) if (acked >= seq && this.host.isLive(member)) n++;
    return n;
  }

  private primary(shard: number, id: string): Primary {
    let entities = this.primaries.get(shard);
    if (entities === undefined) this.primaries.set(shard, (entities = new Map()));
    let primary = entities.get(id);
    if (primary === undefined) entities.set(id, (primary = { acked: new Map(), waiters: [], window: -1 }));
    return primary;
  }

  /** The backups of `shard` by the placement now: its preference list after the holder, live members only. */
  private backupsOf(shard: number): NodeId[] {
    const placement = this.host.placement();
    if (placement === undefined || this.settings.factor <= 1) return [];
    // kept per placement (a new one comes with every membership change): walking the ring per write cost most of it
    if (placement !== this.backupsPlacement) {
      this.backupsPlacement = placement;
      this.backupsByShard.clear();
    }
    let backups = this.backupsByShard.get(shard);
    if (backups === undefined) {
      const list = placement.preferenceList(shard, this.settings.factor);
      backups = list.filter((m) => m !== this.host.selfId && this.host.isLive(m));
      this.backupsByShard.set(shard, backups);
    }
    return backups.length >= this.settings.factor - 1 ? backups : this.withMembersOffRing(backups);
  }

  /**
   * The ring has fewer members than the shard needs backups: live members it leaves out (without quorum for a
   * while, or leaving) back the shard up too. They host nothing, but keep what they acknowledge, and a restore asks
   * every live member. Without them a member whose ring was itself alone (the others had lost quorum for a second)
   * acknowledged writes with syncCount 2 on no backup at all.
   */
  private withMembersOffRing(backups: readonly NodeId[]): NodeId[] {
    const extra = this.host.liveMembers().filter((m) => m !== this.host.selfId && !backups.includes(m) && this.host.isLive(m)).sort();
    return [...backups, ...extra].slice(0, this.settings.factor - 1);
  }

  private backupsPlacement: Placement | undefined = undefined;
  private readonly backupsByShard = new Map<number, NodeId[]>();

  /**
   * Queues `entry` for `backup`; `entity` (its record on this node) keys it: only its latest state travels. 'now': it
   * goes at the end of this turn (a write waits for it); 'fill': so does it, in batches the backup does not
   * acknowledge (what fills a new backup: nothing waits for it); 'later': it gathers for ASYNC_FLUSH_MS with the
   * other asynchronous ones (a message per backup costs far more than an entry in one).
   */
  private queue(backup: NodeId, entity: object, entry: ReplicaEntry, when: 'now' | 'fill' | 'later'): void {
    const outgoing = when === 'now' ? this.outgoing : when === 'fill' ? this.fills : this.later;
    let entries = outgoing.get(backup);
    if (entries === undefined) outgoing.set(backup, (entries = new Map()));
    entries.set(entity, entry);
    if (when !== 'later' && !this.flushScheduled) {
      this.flushScheduled = true;
      // a resolved promise's then costs less than queueMicrotask, which Node wraps in an async resource per call
      void RESOLVED.then(this.flushNow);
    } else if (when === 'later') {
      this.scheduleLater();
    }
  }

  private scheduleLater(): void {
    if (this.laterScheduled) return;
    this.laterScheduled = true;
    this.host.clock.setTimeout(this.flushLater, ASYNC_FLUSH_MS);
  }

  /** Ends a window of asynchronous writes: the entities changed again in it are captured, and all of it is sent. */
  private readonly flushLater = (): void => {
    // one in the middle of a message (an async receive awaiting) stays: the gate captures it at the message's end
    // (the next window's first change), a half-changed state is never sent
    for (const primary of this.deferred.keys()) this.settle(primary);
    this.laterScheduled = false;
    this.window++;
    this.flush(this.later, this.settings.syncCount !== 0);
  };

  /**
   * Asynchronous writes: the entities whose last message's state is not captured yet (see changed); captured at the
   * end of the window, or before anything reads their stored state (a passivated entity that starts again, a
   * hand-off, a restore's answer).
   */
  private readonly deferred = new Map<Primary, Deferred>();
  /** Asynchronous writes: the window that gathers them now (see ASYNC_FLUSH_MS). */
  private window = 0;

  /**
   * Captures an entity's deferred state (see deferred) and queues it for its backups with this window's writes. Not
   * while it is in a message; not after a message of it failed (its instance may hold half that message's change,
   * or be a fresh one after a restart): its backups keep its last state, its next message captures it.
   */
  private settle(primary: Primary): void {
    const deferred = this.deferred.get(primary);
    if (deferred === undefined || deferred.cell.inMessage) return;
    this.deferred.delete(primary);
    const { shard, id, cell } = deferred;
    const entities = this.stored.get(shard);
    const known = entities?.get(id);
    // replaced since (a hand-off, a restore, the shard dropped), or a message of it failed: not captured
    if (known === undefined || known !== deferred.version || cell.failures !== deferred.failures) return;
    // no longer held (it stepped down for a restorer, whose query this node answers now): kept at its last epoch for
    // that answer, not sent; after a hand-off, the new holder has it (the hand-off captured the instance itself)
    const held = this.host.epochOf(shard);
    const epoch = held ?? known.epoch;
    let state: Uint8Array;
    try {
      state = captureState(cell.gatedInstance, this.host.codec, known.state);
    } catch (error) {
      // the entity's next message captures its state at once, and that ask fails with this error
      this.host.logger.error(`Replication of '${this.host.typeName}': the state of entity '${id}' could not be captured; ` +
        'its backups keep the one before', error);
      return;
    }
    if (state === known.state) return;
    const version: Version = { epoch, seq: known.seq + 1, state };
    if (!this.put(entities!, id, version) || held === undefined) return; // past the bound: logged (now and then) by put
    const entry: ReplicaEntry = [shard, epoch, id, version.seq, state];
    for (const backup of this.backupsOf(shard)) this.queue(backup, primary, entry, 'later');
    primary.window = this.window;
  }

  /**
   * Captures the deferred states of a shard's entities (see deferred); `forgetRest`: those in a message are dropped
   * (a restore's answer: after it, the restorer has the shard, and their message ends with StaleOwnerError).
   */
  private settleShard(shard: number, forgetRest = false): void {
    for (const [primary, deferred] of this.deferred) {
      if (deferred.shard !== shard) continue;
      this.settle(primary);
      if (forgetRest) this.deferred.delete(primary);
    }
  }

  /** Sends this turn's 'now' and 'fill' entries (see queue). */
  private readonly flushNow = (): void => {
    this.flushScheduled = false;
    this.flush(this.outgoing, this.settings.syncCount !== 0, this.replies);
    this.flush(this.fills, false);
  };

  /** Holder side: per backup, the entries to send after ASYNC_FLUSH_MS (the latest per entity). */
  private readonly later = new Map<NodeId, Map<object, ReplicaEntry>>();
  private laterScheduled = false;
  /** Holder side: per backup, the states that fill it at the end of this turn. */
  private readonly fills = new Map<NodeId, Map<object, ReplicaEntry>>();

  /**
   * Sends what is queued, per backup in batches of at most about MAX_BATCH_BYTES (a frame carries at most 16 MiB);
   * `ack`: the backup acknowledges them (else it answers only a refusal).
   */
  private flush(outgoing: Map<NodeId, Map<object, ReplicaEntry>>, ack: boolean, replies?: Map<NodeId, ReplicaReply[]>): void {
    for (const [backup, entries] of outgoing) {
      const parts = chunks([...entries.values()]);
      // the replies go with the last part: the backup holds every state they wait for by then
      const theirs = replies?.get(backup) ?? [];
      parts.forEach((part, i) => this.send(backup, new ReplicaBatch(this.host.selfId, part, ack, i === parts.length - 1 ? theirs : [])));
    }
    outgoing.clear();
    replies?.clear();
  }

  /**
   * Sends a batch to a backup when its connection has room (see BulkSends). One that cannot go (a state too big for
   * a frame, a connection that refuses it) is logged, now and then, with what it held; the writes that wait for it
   * time out with ReplicationTimeoutError.
   */
  private send(backup: NodeId, batch: ReplicaBatch | ReplicaAnswer): void {
    const failed = (error: unknown): void => {
      this.failedBatches++;
      const now = this.host.clock.now();
      if (now - this.sendWarnedAt < BOUND_WARNING_MS) return;
      this.sendWarnedAt = now;
      this.host.logger.error(`Replication of '${this.host.typeName}': ${batch.entries.length} entity states (first: ` +
        `'${batch.entries[0]?.[2]}') could not be sent to backup '${backup}' (${this.failedBatches} batches so far); ` +
        'writes that wait for them time out', error);
    };
    this.host.sendBulk(backup, batch, batchBytes(batch.entries), failed);
  }

  private failedBatches = 0;
  private sendWarnedAt = -Infinity;

  /** A backup's acknowledgements: releases the replies that waited for them; refusals fail them. */
  private acknowledged(msg: ReplicaAcks): void {
    const replied = msg.replied === undefined || msg.replied.length === 0 ? undefined
      : new Set(msg.replied.map(([node, askId]) => replyKey(node, askId)));
    for (const [shard, id, seq] of msg.acks) {
      const primary = this.primaries.get(shard)?.get(id);
      if (primary === undefined) continue;
      if ((primary.acked.get(msg.from) ?? 0) < seq) primary.acked.set(msg.from, seq);
      if (primary.waiters.length === 0) continue;
      const still: Waiter[] = [];
      for (const w of primary.waiters) {
        if (this.acknowledgedBy(primary, w.seq) >= w.required) {
          this.deadlines.cancel(w.deadline);
          // its backup delivered the reply, or (another backup acknowledged first) it goes from here
          w.resolve(w.relay !== undefined && w.relay.via === msg.from && replied?.has(w.relay.key) === true ? REPLY_RELAYED : undefined);
        } else {
          still.push(w);
        }
      }
      primary.waiters = still;
    }
    for (const [shard, epoch] of msg.refused) {
      this.fail(shard, (id) => new StaleOwnerError(`The message to entity '${id}' of '${this.host.typeName}' was ` +
        `processed on node '${this.host.selfId}', which no longer holds shard ${shard} (node '${msg.from}' knows it at ` +
        `epoch ${epoch}, newer than this node's): its change is not acknowledged`));
    }
  }

  /** Fails every reply of the shard that waits for backups. */
  private fail(shard: number, error: (id: string) => Error): void {
    for (const [id, primary] of this.primaries.get(shard) ?? []) {
      for (const w of primary.waiters) {
        this.deadlines.cancel(w.deadline);
        w.reject(error(id));
      }
      primary.waiters = [];
    }
  }

  // ---- a backup ----

  private batch(msg: ReplicaBatch): void {
    const acks: [number, string, number][] = [];
    const refused = new Map<number, number>();
    for (const entry of msg.entries) {
      const [shard, epoch, id, seq, state] = entry;
      if (!this.valid(shard, epoch, id, seq, state)) continue;
      const fence = this.fences.get(shard) ?? 0;
      const restorer = this.restorerOf(shard);
      if (epoch < fence || (restorer !== undefined && restorer !== msg.from)) {
        refused.set(shard, Math.max(fence, epoch + (restorer !== undefined ? 1 : 0)));
        continue;
      }
      if (epoch > fence) this.fences.set(shard, epoch);
      const entities = this.shardStates(shard);
      const known = entities.get(id);
      if (known === undefined || epoch > known.epoch || (epoch === known.epoch && seq > known.seq)) {
        if (!this.put(entities, id, { epoch, seq, state })) continue; // over the bound: not acknowledged
      }
      acks.push([shard, id, seq]);
    }
    const replied = msg.replies === undefined || msg.replies.length === 0 ? [] : this.deliverReplies(msg.replies);
    // a batch nothing waits for is answered only when it was refused (its sender has lost the shard)
    if (msg.ack === false && refused.size === 0) return;
    let answer = this.answers.get(msg.from);
    if (answer === undefined) this.answers.set(msg.from, (answer = { acks: [], refused: new Map(), replied: [] }));
    if (msg.ack !== false) for (const ack of acks) answer.acks.push(ack);
    for (const [shard, epoch] of refused) answer.refused.set(shard, Math.max(epoch, answer.refused.get(shard) ?? 0));
    for (const r of replied) answer.replied.push(r);
    if (this.answersScheduled) return;
    this.answersScheduled = true;
    // one answer per holder for the batches of this turn, two turns on: an asker whose reply was delivered here
    // sends its next message first. Its write goes at the end of this turn; an answer sent in this turn or the next
    // (a setImmediate queued before that write's) went ahead of it, and on 2 cores its write, waking the holder's
    // process, held the next message up 30-100 us
    setImmediate(() => setImmediate(() => {
      this.answersScheduled = false;
      for (const [holder, a] of this.answers) this.host.tell(holder, new ReplicaAcks(this.host.selfId, a.acks, [...a.refused], a.replied));
      this.answers.clear();
    }));
  }

  /** Backup side: per holder, the answer to the batches of this turn (see batch). */
  private readonly answers = new Map<NodeId, { acks: [number, string, number][]; refused: Map<number, number>; replied: [string, number][] }>();
  private answersScheduled = false;

  /**
   * Delivers the replies of a batch whose states this node now holds (that version or a later one of the same epoch;
   * a refused one is not, and its holder fails the ask). Returns those delivered ([node, ask id]).
   */
  private deliverReplies(replies: readonly ReplicaReply[]): [string, number][] {
    const delivered: [string, number][] = [];
    for (const reply of replies) {
      const [shard, epoch, id, seq, node, askId, body] = (Array.isArray(reply) ? reply : []) as Partial<ReplicaReply>;
      if (typeof node !== 'string' || !Number.isInteger(askId) || !(body instanceof Uint8Array) || shard === undefined ||
        id === undefined || epoch === undefined || seq === undefined) {
        this.host.logger.warn(`Replication of '${this.host.typeName}': dropped a malformed reply to deliver from another node`);
        continue;
      }
      const held = this.stored.get(shard)?.get(id);
      // a version of a newer epoch is another holder's history: it need not hold this write
      if (held === undefined || held.epoch !== epoch || held.seq < seq) continue;
      if (this.host.relayReply({ node, id: askId! }, body)) delivered.push([node, askId!]);
    }
    return delivered;
  }

  /**
   * The member restoring `shard`, while it does: one that never fenced it (it crashed mid-restore) stops counting
   * after twice the restore timeout, so the shard's next holder is not refused forever.
   */
  private restorerOf(shard: number): NodeId | undefined {
    const restoring = this.restoringBy.get(shard);
    if (restoring === undefined) return undefined;
    if (this.host.clock.now() - restoring.since < 2 * RESTORE_TIMEOUT_MS) return restoring.node;
    this.restoringBy.delete(shard);
    return undefined;
  }

  /** True for an entry another node may have sent; a malformed one is dropped with a warning. */
  private valid(shard: unknown, epoch: unknown, id: unknown, seq: unknown, state: unknown): boolean {
    if (Number.isInteger(shard) && (shard as number) >= 0 && (shard as number) < this.host.shardCount &&
      isCount(epoch) && isCount(seq) && typeof id === 'string' && state instanceof Uint8Array) return true;
    this.host.logger.warn(`Replication of '${this.host.typeName}': dropped a malformed replica entry (shard ` +
      `${String(shard)}, epoch ${String(epoch)}, seq ${String(seq)})`);
    return false;
  }

  /** Stores `version`; false (nothing stored, a warning logged now and then) when it would pass the bound. */
  private put(entities: Map<string, Version>, id: string, version: Version): boolean {
    const before = entities.get(id)?.state.byteLength ?? 0;
    const after = this.bytes - before + version.state.byteLength;
    if (after > this.host.maxBytes && version.state.byteLength > before) {
      const now = this.host.clock.now();
      if (now - this.warnedAt >= BOUND_WARNING_MS) {
        this.warnedAt = now;
        this.host.logger.error(`Replication of '${this.host.typeName}': this node holds ${this.bytes} bytes of entity ` +
          `state, and a new state of ${version.state.byteLength} bytes would pass the bound (maxReplicaBytes ` +
          `${this.host.maxBytes}); it is not stored, and writes that wait for this node as a backup time out. ` +
          'Raise maxReplicaBytes, add nodes, or keep less state per entity');
      }
      return false;
    }
    this.bytes = after;
    entities.set(id, version);
    return true;
  }

  private shardStates(shard: number): Map<string, Version> {
    let entities = this.stored.get(shard);
    if (entities === undefined) this.stored.set(shard, (entities = new Map()));
    return entities;
  }

  private drop(shard: number): void {
    const entities = this.stored.get(shard);
    if (entities === undefined) return;
    for (const v of entities.values()) this.bytes -= v.state.byteLength;
    this.stored.delete(shard);
    this.primaries.delete(shard);
    this.filled.delete(shard);
  }

  // ---- membership changes, hand-offs, restores ----

  /**
   * After a ring change: each held shard's new backups get its whole content (the others have it), and what this
   * node keeps of shards it neither holds nor backs up any more is dropped.
   */
  ringChanged(held: ReadonlySet<number>): void {
    // a member a restore waits for that is gone (declared down) will not answer: the restore goes on without it, as
    // without a crashed one, instead of waiting RESTORE_TIMEOUT_MS (after a partition, the other side's members are
    // declared down up to a second or more apart, and a restore begun in between waited 5 s for the last of them)
    for (const [shard, restore] of [...this.restores]) {
      for (const member of [...restore.waiting]) if (!this.host.isLive(member)) restore.waiting.delete(member);
      if (restore.waiting.size === 0) this.completeRestore(shard, restore);
    }
    const placement = this.host.placement();
    if (placement === undefined) return;
    this.retire(held, placement);
    // the fills go a turn of the event loop after this one, FILL_TURN_BYTES of states per turn: queued here at once,
    // a join's ring change held a holder of 5,000 states of 10 KiB for 100-400 ms (its region's turn and the flush
    // after it) on 2 cores, and its members, who got no answer to their quorum pings, lost quorum
    for (const shard of held) this.pendingFills.set(shard, 'held');
    for (const shard of this.stored.keys()) {
      if (!held.has(shard) && !this.restores.has(shard) && placement.ownerOf(shard) === this.host.selfId) this.pendingFills.set(shard, 'idle');
    }
    this.schedulePendingFills();
    this.noteIdle(held, placement);
  }

  /**
   * Shards this node is the ring's primary of but neither holds nor keeps any state of. A hand-off to this node
   * refused while it had no quorum leaves such shards: nobody holds them until their next message, and their states
   * are on one copy fewer (the bench's joiner, which lost quorum a moment in the middle of its transfer, was left
   * without a tenth of its replicas for good). Noted at each ring change; those still so PULL_AFTER_MS later (a
   * hand-off in progress has come by then: pulled at once, a join's shards came twice) are asked of every live
   * member (ReplicaPull), once per ring change.
   */
  private noteIdle(held: ReadonlySet<number>, placement: Placement): void {
    const now = this.host.clock.now();
    const idle = new Map<number, number>();
    for (const shard of placement.shardsOf(this.host.selfId)) {
      if (this.idleAndEmpty(shard, held, placement)) idle.set(shard, this.idleSince.get(shard) ?? now);
    }
    this.idleSince = idle;
  }

  private idleAndEmpty(shard: number, held: ReadonlySet<number>, placement: Placement): boolean {
    return !held.has(shard) && !this.restores.has(shard) && (this.stored.get(shard)?.size ?? 0) === 0 &&
      placement.ownerOf(shard) === this.host.selfId;
  }

  /** Idle primary shards without states here, since when (see noteIdle). */
  private idleSince = new Map<number, number>();

  /** Asks every live member for the states of the shards idle and empty here PULL_AFTER_MS or more (see noteIdle). */
  private pullIdle(held: ReadonlySet<number>, placement: Placement): void {
    const now = this.host.clock.now();
    const shards: number[] = [];
    for (const [shard, since] of this.idleSince) {
      if (now - since < PULL_AFTER_MS) continue;
      this.idleSince.delete(shard);
      if (this.idleAndEmpty(shard, held, placement)) shards.push(shard);
    }
    if (shards.length === 0) return;
    for (const member of this.host.liveMembers()) {
      if (member !== this.host.selfId) this.host.tell(member, new ReplicaPull(this.host.selfId, shards));
    }
  }

  /** A primary's ReplicaPull: what this node keeps of those shards goes to it, at their own epochs (see fillPending). */
  private pulled(msg: ReplicaPull): void {
    let targets = this.pendingPulls.get(msg.from);
    for (const shard of msg.shards) {
      if (!Number.isInteger(shard) || shard < 0 || shard >= this.host.shardCount || (this.stored.get(shard)?.size ?? 0) === 0) continue;
      if (targets === undefined) this.pendingPulls.set(msg.from, (targets = new Set()));
      targets.add(shard);
    }
    this.schedulePendingFills();
  }

  /** Per member that pulled them, the shards whose states go to it (see pulled). */
  private readonly pendingPulls = new Map<NodeId, Set<number>>();

  /** Shards whose new backups a ring change found to fill (see ringChanged): 'held' here, or 'idle' (see fillIdle). */
  private readonly pendingFills = new Map<number, 'held' | 'idle'>();
  private pendingFillsScheduled = false;

  private schedulePendingFills(): void {
    if (this.pendingFillsScheduled || (this.pendingFills.size === 0 && this.pendingPulls.size === 0)) return;
    this.pendingFillsScheduled = true;
    this.host.clock.setTimeout(() => {
      this.pendingFillsScheduled = false;
      this.fillPending();
    }, 0);
  }

  /**
   * Queues the fills of pending shards, by what holds now (a shard handed off or lost meanwhile is not filled; one
   * still held goes at its epoch now), until FILL_TURN_BYTES of states are queued; the rest in the next turn.
   */
  private fillPending(): void {
    const placement = this.host.placement();
    let bytes = 0;
    for (const [shard, kind] of this.pendingFills) {
      this.pendingFills.delete(shard);
      const epoch = this.host.epochOf(shard);
      if (kind === 'held') {
        if (epoch !== undefined) bytes += this.fillNew(shard, () => epoch);
      } else if (epoch === undefined && !this.restores.has(shard) && placement?.ownerOf(shard) === this.host.selfId) {
        bytes += this.fillIdle(shard);
      }
      if (bytes >= FILL_TURN_BYTES) break;
    }
    for (const [member, shards] of this.pendingPulls) {
      if (bytes >= FILL_TURN_BYTES) break;
      for (const shard of shards) {
        shards.delete(shard);
        // each keyed by a record of its own: these states are not this node's writes
        bytes += this.fillWith(member, shard, (v) => v.epoch, () => ({}));
        if (bytes >= FILL_TURN_BYTES) break;
      }
      if (shards.size === 0) this.pendingPulls.delete(member);
    }
    this.schedulePendingFills(); // what was queued goes at the end of this turn (see queue)
  }

  /**
   * A shard this node is the primary of by the ring but does not hold (nobody does until its next message: this node
   * lost quorum a moment, and holds its shards again only then): its new backups get the versions kept here, at their
   * own epochs, as a holder's would. Else a backup that missed writes while it was away (paused, cut off) came back
   * to a shard nobody filled it for, and when a partition then cut the shard's other replicas off, the majority
   * restored it from that backup without them (acknowledged writes lost in the randomized simulation).
   */
  private fillIdle(shard: number): number {
    return this.fillNew(shard, (v) => v.epoch);
  }

  /** Periodic (the region's tick): drops the states of shards retired RETIRE_MS ago; pulls idle shards (see noteIdle). */
  tick(held: ReadonlySet<number>): void {
    const placement = this.host.placement();
    if (this.retired.size > 0 && placement !== undefined) this.retire(held, placement);
    if (this.idleSince.size > 0 && placement !== undefined) this.pullIdle(held, placement);
  }

  /** Drops what this node keeps of shards it neither holds nor backs up any more, RETIRE_MS after they stopped being its. */
  private retire(held: ReadonlySet<number>, placement: Placement): void {
    const now = this.host.clock.now();
    for (const shard of [...this.stored.keys()]) {
      if (held.has(shard) || this.restores.has(shard) || placement.preferenceList(shard, this.settings.factor).includes(this.host.selfId)) {
        this.retired.delete(shard);
        continue;
      }
      // no longer this node's: kept RETIRE_MS more (its new backups are filled meanwhile; a crash then still finds it)
      const since = this.retired.get(shard);
      if (since === undefined) this.retired.set(shard, now);
      else if (now - since >= RETIRE_MS) {
        this.retired.delete(shard);
        this.drop(shard);
      }
    }
  }

  /** Shards this node no longer holds nor backs up, since when (their states go RETIRE_MS later). */
  private readonly retired = new Map<number, number>();

  /** Sends the whole content of a held shard to each backup that has not had it since the last change. */
  fill(shard: number, epoch = this.host.epochOf(shard)): void {
    if (epoch === undefined) this.filled.set(shard, new Set(this.backupsOf(shard)));
    else this.fillNew(shard, () => epoch);
  }

  /**
   * Sends the shard's stored versions (at `epochOf` each) to its backups that have not had them since the last change.
   * Returns the bytes of states queued.
   */
  private fillNew(shard: number, epochOf: (v: Version) => number): number {
    const backups = this.backupsOf(shard);
    const had = this.filled.get(shard);
    const entities = this.stored.get(shard);
    this.filled.set(shard, new Set(backups));
    if (entities === undefined) return 0;
    let bytes = 0;
    for (const backup of backups) {
      if (had?.has(backup) !== true) bytes += this.fillWith(backup, shard, epochOf, (id) => this.primary(shard, id));
    }
    return bytes;
  }

  /**
   * Queues every stored version of `shard` for `to` as a fill, at `epochOf` each, keyed by `key` (see queue); returns
   * the bytes of states queued.
   */
  private fillWith(to: NodeId, shard: number, epochOf: (v: Version) => number, key: (id: string) => object): number {
    let bytes = 0;
    for (const [id, v] of this.stored.get(shard) ?? []) {
      this.queue(to, key(id), [shard, epochOf(v), id, v.seq, v.state], 'fill');
      bytes += v.state.byteLength;
    }
    return bytes;
  }

  /** What a hand-off carries of the shard besides its live entities' states: every stored version. */
  handOffEntries(shard: number): ReplicaEntry[] {
    if (this.deferred.size > 0) this.settleShard(shard);
    return this.storedEntries(shard);
  }

  /** Every stored version of the shard, as entries. */
  private storedEntries(shard: number): ReplicaEntry[] {
    return [...(this.stored.get(shard) ?? [])].map(([id, v]) => [shard, v.epoch, id, v.seq, v.state] as const);
  }

  /** Takes what a hand-off brought, at the shard's new epoch (see RegionReplication.adopt). */
  adopt(shard: number, epoch: number, entries: readonly ReplicaEntry[], holders?: readonly NodeId[]): void {
    const entities = this.shardStates(shard);
    if ((this.fences.get(shard) ?? 0) < epoch) this.fences.set(shard, epoch);
    for (const [, entryEpoch, id, seq, state] of entries) {
      // newer by (epoch, seq): a copy this node kept from an older epoch (it was cut off meanwhile) loses
      const known = entities.get(id);
      if (known === undefined || entryEpoch > known.epoch || (entryEpoch === known.epoch && seq >= known.seq)) {
        this.put(entities, id, { epoch, seq, state });
      }
    }
    if (holders !== undefined) this.filled.set(shard, new Set(holders.filter((m) => m !== this.host.selfId)));
  }

  holdersOf(shard: number): NodeId[] {
    return [...(this.filled.get(shard) ?? []), this.host.selfId];
  }

  /** An entity's state captured at a hand-off: the newest version, under the shard's new epoch. */
  captured(shard: number, epoch: number, id: string, state: Uint8Array): void {
    const entities = this.shardStates(shard);
    const known = entities.get(id);
    if (known !== undefined && stateUnchanged(known.state, state)) return;
    this.put(entities, id, { epoch, seq: (known?.seq ?? 0) + 1, state });
  }

  /**
   * The shard's holder crashed and this node takes it over: asks every live member what it holds of it, keeps the
   * newest version of each entity, and calls `done` with an epoch above every one seen (then fenced on every member).
   */
  restore(shard: number, members: readonly NodeId[], done: (epoch: number) => void): void {
    if (this.restores.has(shard)) return;
    const others = members.filter((m) => m !== this.host.selfId && this.host.isLive(m));
    const found = new Map<string, Version>();
    for (const [id, v] of this.stored.get(shard) ?? []) found.set(id, v);
    let epoch = Math.max(this.fences.get(shard) ?? 0, ...[...found.values()].map((v) => v.epoch));
    if (others.length === 0) {
      this.finishRestore(shard, found, epoch, done);
      return;
    }
    const timer = this.host.clock.setTimeout(() => {
      const restore = this.restores.get(shard);
      if (restore === undefined) return;
      this.host.logger.warn(`Replication of '${this.host.typeName}': ${[...restore.waiting].join(', ')} did not say within ` +
        `${RESTORE_TIMEOUT_MS} ms what they hold of shard ${shard}; it is restored from the others`);
      this.restores.delete(shard);
      this.finishRestore(shard, restore.found, restore.epoch, restore.done, restore.sources);
    }, RESTORE_TIMEOUT_MS);
    this.restores.set(shard, { waiting: new Set(others), found, sources: new Map(), epoch, done, timer });
    this.restoringBy.set(shard, { node: this.host.selfId, since: this.host.clock.now() });
    this.host.logger.debug(`Replication of '${this.host.typeName}': restoring shard ${shard}, asking ${others.join(', ')}; ` +
      `here: ${versions(found)}`);
    for (const member of others) this.host.tell(member, new ReplicaQuery(shard, this.host.selfId));
  }

  fenceOf(shard: number): number {
    return this.fences.get(shard) ?? 0;
  }

  /** The shard is handed to this node while it restores it (the ring changed twice): the restore stops. */
  cancelRestore(shard: number): void {
    const restore = this.restores.get(shard);
    if (restore === undefined) return;
    this.host.clock.clearTimeout(restore.timer);
    this.restores.delete(shard);
    if (this.restoringBy.get(shard)?.node === this.host.selfId) this.restoringBy.delete(shard);
  }

  private answered(msg: ReplicaAnswer): void {
    const restore = this.restores.get(msg.shard);
    if (restore === undefined || !restore.waiting.has(msg.from)) return;
    if (msg.last !== false) restore.waiting.delete(msg.from);
    restore.epoch = Math.max(restore.epoch, msg.epoch);
    for (const [shardOf, epoch, id, seq, state] of msg.entries) {
      if (shardOf !== msg.shard || !this.valid(shardOf, epoch, id, seq, state)) continue;
      const known = restore.found.get(id);
      if (known === undefined || epoch > known.epoch || (epoch === known.epoch && seq > known.seq)) {
        restore.found.set(id, { epoch, seq, state });
        restore.sources.set(id, msg.from);
      }
      restore.epoch = Math.max(restore.epoch, epoch);
    }
    if (restore.waiting.size === 0) this.completeRestore(msg.shard, restore);
  }

  /** Every member the restore of `shard` waited for has answered (or is gone): the shard is held from what was found. */
  private completeRestore(shard: number, restore: Restore): void {
    this.host.clock.clearTimeout(restore.timer);
    this.restores.delete(shard);
    this.finishRestore(shard, restore.found, restore.epoch, restore.done, restore.sources);
  }

  /**
   * Holds the restored shard at an epoch above every one seen, and fences it on every live member (those the ring
   * leaves out too: fenced only on the ring, a member without quorum kept the old epoch, and when it restored the
   * shard itself later it took the same epoch for other states).
   */
  private finishRestore(shard: number, found: Map<string, Version>, maxEpoch: number, done: (epoch: number) => void,
    sources?: ReadonlyMap<string, NodeId>): void {
    const epoch = maxEpoch + 1;
    this.host.logger.debug(`Replication of '${this.host.typeName}': shard ${shard} restored at epoch ${epoch}: ` +
      versions(found, sources));
    this.restoringBy.delete(shard);
    this.fences.set(shard, epoch);
    this.drop(shard);
    const entities = this.shardStates(shard);
    for (const [id, v] of found) this.put(entities, id, { epoch, seq: v.seq, state: v.state });
    for (const member of this.host.liveMembers()) {
      if (member !== this.host.selfId) this.host.tell(member, new ReplicaFence(shard, epoch, this.host.selfId));
    }
    done(epoch);
    // at the restore's epoch, not the region's (it is raised when `done`'s message comes): the backups were fenced at
    // this one, and refused the fill at the old one, keeping older states; when the restorer itself was then declared
    // down, the next restore took those (a majority member stopped during a partition lost acknowledged writes)
    this.fill(shard, epoch);
  }

  private queried(msg: ReplicaQuery): void {
    this.restoringBy.set(msg.shard, { node: msg.requester, since: this.host.clock.now() });
    // a holder that is asked has lost the shard by the asker's view: what waits for its backups is not acknowledged
    this.fail(msg.shard, (id) => new StaleOwnerError(`The message to entity '${id}' of '${this.host.typeName}' was ` +
      `processed on node '${this.host.selfId}', but node '${msg.requester}' is taking shard ${msg.shard} over: its ` +
      'change is not acknowledged'));
    // held here: its entities stop first, so that the asker starts them only once they stopped here (both ran them a
    // moment when the rings of two members that had just regained quorum disagreed)
    if (this.host.epochOf(msg.shard) !== undefined) this.host.stepDown(msg.shard, msg.requester, () => this.answer(msg));
    else this.answer(msg);
  }

  /** Answers a restore's query with every stored version of the shard. */
  private answer(msg: ReplicaQuery): void {
    this.settleShard(msg.shard, true);
    const parts = chunks(this.storedEntries(msg.shard));
    const epoch = this.fences.get(msg.shard) ?? 0;
    parts.forEach((part, i) => this.send(msg.requester,
      new ReplicaAnswer(msg.shard, this.host.selfId, epoch, part, i === parts.length - 1)));
  }

  private fenced(msg: ReplicaFence): void {
    if (this.restoringBy.get(msg.shard)?.node === msg.from) this.restoringBy.delete(msg.shard);
    if ((this.fences.get(msg.shard) ?? 0) < msg.epoch) this.fences.set(msg.shard, msg.epoch);
    // held here at an older epoch: a hand-off that crossed the restore (it came here before the fence; the restorer
    // asked this node before it came). The restorer holds the shard at a higher epoch, which the backups now refuse
    // this node's writes below: its entities stop here, and what comes for them goes to the restorer
    const held = this.host.epochOf(msg.shard);
    if (held !== undefined && held < msg.epoch) {
      this.host.logger.warn(`Replication of '${this.host.typeName}': shard ${msg.shard} is held here at epoch ${held}, ` +
        `and '${msg.from}' restored it at epoch ${msg.epoch}: it goes to '${msg.from}'`);
      this.host.stepDown(msg.shard, msg.from, () => undefined);
    }
  }

  /**
   * This node hands the shard over at `epoch`: a restore it answers from now on says so, and takes a higher one (at
   * the same epoch as the hand-off, a restore and the hand-off's receiver both held the shard, and their backups
   * took both histories as one).
   */
  handingOff(shard: number, epoch: number): void {
    if ((this.fences.get(shard) ?? 0) < epoch) this.fences.set(shard, epoch);
  }

  /** Takes a replication message sent to the region; false for any other message. */
  receive(msg: unknown): boolean {
    const shard = (msg as { shard?: unknown } | null)?.shard;
    if (shard !== undefined && !(Number.isInteger(shard) && (shard as number) >= 0 && (shard as number) < this.host.shardCount)) {
      return false; // not one of this type's shards: the region refuses it, with a warning
    }
    if (!wellFormed(msg)) {
      this.host.logger.warn(`Replication of '${this.host.typeName}': dropped a malformed ${(msg as object).constructor.name} ` +
        'from another node');
      return true;
    }
    if (msg instanceof ReplicaBatch) this.batch(msg);
    else if (msg instanceof ReplicaAcks) this.acknowledged(msg);
    else if (msg instanceof ReplicaQuery) this.queried(msg);
    else if (msg instanceof ReplicaAnswer) this.answered(msg);
    else if (msg instanceof ReplicaFence) this.fenced(msg);
    else if (msg instanceof ReplicaPull) this.pulled(msg);
    else return false;
    return true;
  }

  /** Bytes of entity state kept, and entities, for statistics. */
  summary(): { bytes: number; entities: number } {
    let entities = 0;
    for (const m of this.stored.values()) entities += m.size;
    return { bytes: this.bytes, entities };
  }
}

/** `id@epoch.seq` of the first 20 versions (and who sent each), for the debug log. */
function versions(found: ReadonlyMap<string, Version>, sources?: ReadonlyMap<string, NodeId>): string {
  const shown = [...found].slice(0, 20).map(([id, v]) => `${id}@${v.epoch}.${v.seq}${sources === undefined ? '' : ` from ${sources.get(id) ?? 'here'}`}`);
  return found.size > 20 ? `${shown.join(', ')} and ${found.size - 20} more` : shown.join(', ') || 'nothing';
}

const replyKey = (node: string, askId: number): string => `${node}|${askId}`;

/** About the bytes of `entries` on the wire. */
function batchBytes(entries: readonly ReplicaEntry[]): number {
  let bytes = 64;
  for (const entry of entries) bytes += entryBytes(entry);
  return bytes;
}

const entryBytes = (entry: ReplicaEntry): number => entry[4].byteLength + entry[2].length + 32;

/** `entries` in parts of at most about MAX_BATCH_BYTES each (one entry bigger than that goes alone); one part at least. */
function chunks(entries: readonly ReplicaEntry[]): ReplicaEntry[][] {
  const parts: ReplicaEntry[][] = [[]];
  let bytes = 0;
  for (const entry of entries) {
    const size = entryBytes(entry);
    if (parts[parts.length - 1]!.length > 0 && bytes + size > MAX_BATCH_BYTES) {
      parts.push([]);
      bytes = 0;
    }
    parts[parts.length - 1]!.push(entry);
    bytes += size;
  }
  return parts;
}

const isCount = (n: unknown): boolean => Number.isSafeInteger(n) && (n as number) >= 0;

/** The fields of a replication message another node sent have their types (entries are checked one by one later). */
function wellFormed(msg: unknown): boolean {
  if (msg instanceof ReplicaBatch) {
    return typeof msg.from === 'string' && Array.isArray(msg.entries) && msg.entries.every(Array.isArray) &&
      (msg.replies === undefined || Array.isArray(msg.replies));
  }
  if (msg instanceof ReplicaAcks) {
    return typeof msg.from === 'string' && Array.isArray(msg.acks) && msg.acks.every(Array.isArray) &&
      Array.isArray(msg.refused) && msg.refused.every((r) => Array.isArray(r) && isCount(r[1])) &&
      (msg.replied === undefined || (Array.isArray(msg.replied) && msg.replied.every(Array.isArray)));
  }
  if (msg instanceof ReplicaQuery) return typeof msg.requester === 'string';
  if (msg instanceof ReplicaAnswer) {
    return typeof msg.from === 'string' && isCount(msg.epoch) && Array.isArray(msg.entries) && msg.entries.every(Array.isArray);
  }
  if (msg instanceof ReplicaFence) return typeof msg.from === 'string' && isCount(msg.epoch);
  if (msg instanceof ReplicaPull) return typeof msg.from === 'string' && Array.isArray(msg.shards);
  return true;
}
