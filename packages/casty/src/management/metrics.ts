// What GET /metrics says: this node's own figures (each node is scraped on its own, so nothing is counted
// twice), every sample labelled with the node id. Counters count from the node's start.

import type { DeadLetterReason } from '@casty/core';
import { MemberState } from '@casty/cluster';
import type { Member } from '@casty/cluster';
import type { NodeStats, TrafficStats } from './NodeStats';
import { PrometheusText } from './PrometheusText';
import type { Sample } from './PrometheusText';
import type { MembershipEventType } from './Monitoring';

const DEAD_LETTER_REASONS: readonly DeadLetterReason[] = ['stopped', 'mailbox-full', 'unroutable', 'node-gone'];
const EVENT_TYPES: readonly MembershipEventType[] = ['up', 'suspect', 'alive', 'down', 'left'];

const TRAFFIC: ReadonlyArray<readonly [keyof TrafficStats, string, string]> = [
  ['framesSent', 'casty_transport_frames_sent_total', 'Frames the transport accepted to send.'],
  ['framesReceived', 'casty_transport_frames_received_total', 'Frames received from other nodes.'],
  ['bytesWritten', 'casty_transport_bytes_written_total', 'Bytes written to sockets, headers and handshakes included.'],
  ['bytesRead', 'casty_transport_bytes_read_total', 'Bytes read from sockets, headers and handshakes included.'],
  ['framesDropped', 'casty_transport_frames_dropped_total', 'Frames accepted but never handed to the operating system.'],
  ['connectionsRefused', 'casty_transport_connections_refused_total', 'Inbound connections closed before completing the handshake.'],
];

/** The exposition of `stats` (this node) with `members` (this node's view of the cluster) and readiness. */
export function renderMetrics(stats: NodeStats, members: readonly Member[], ready: boolean): string {
  const node = { node: stats.nodeId };
  const one = (value: number): Sample[] => [[node, value]];
  const text = new PrometheusText()
    .add('casty_up', 'gauge', 'Always 1 while the node answers; with casty_ready, tells a live node from a ready one.', one(1))
    .add('casty_ready', 'gauge', '1 when the node has joined the cluster and is not shutting down (GET /ready).', one(ready ? 1 : 0))
    .add('casty_uptime_seconds', 'gauge', 'Seconds since the node started.', one(stats.uptimeMs / 1000))
    .add('casty_messages_processed_total', 'counter', 'Messages processed by the actors of this node.', one(stats.messagesProcessed))
    .add('casty_asks_total', 'counter', 'Asks registered on this node: made here, or served here for another node (an ask across nodes counts on both).', one(stats.asksStarted))
    .add('casty_ask_timeouts_total', 'counter', 'Asks registered on this node that timed out.', one(stats.asksTimedOut))
    .add('casty_asks_pending', 'gauge', 'Asks registered on this node waiting for their reply.', one(stats.asksPending))
    .add('casty_dead_letters_total', 'counter', 'Messages that could not be delivered, by reason.',
      DEAD_LETTER_REASONS.map((reason) => [{ ...node, reason }, stats.deadLetters[reason] ?? 0]))
    .add('casty_membership_events_total', 'counter', 'Membership events this node published, by type (suspect counts suspicions).',
      EVENT_TYPES.map((type) => [{ ...node, type }, stats.membershipEvents[type] ?? 0]))
    .add('casty_members', 'gauge', 'Members by state, as this node sees them (dead and left ones while remembered).',
      Object.values(MemberState).map((state) => [{ ...node, state }, members.filter((m) => m.state === state).length]));
  if (stats.traffic !== undefined) {
    for (const [field, name, help] of TRAFFIC) text.add(name, 'counter', help, one(stats.traffic[field]));
  }
  // Sharding: its place is here; replication adds its own families beside these when it lands.
  if (stats.sharding !== undefined) {
    const types = stats.sharding.types;
    const sharded = types.filter((t) => !t.singleton);
    text.add('casty_sharding_shards_owned', 'gauge', 'Shards this node owns by its ring.', one(stats.sharding.shardsOwned))
      .add('casty_sharding_hand_offs_total', 'counter', 'Shards this node handed over or took over.', one(stats.sharding.handOffs))
      .add('casty_sharding_entities', 'gauge', 'Active entities on this node, by sharded type.',
        sharded.map((t) => [{ ...node, type: t.typeName }, t.activeEntities]))
      .add('casty_sharding_shards_held', 'gauge', 'Shards of each sharded type this node holds.',
        sharded.map((t) => [{ ...node, type: t.typeName }, t.shardsHeld]))
      .add('casty_singleton_running', 'gauge', '1 for each singleton that runs on this node, else 0.',
        types.filter((t) => t.singleton).map((t) => [{ ...node, type: t.typeName }, t.shardsHeld > 0 ? 1 : 0]));
  }
  text.add('casty_heap_used_bytes', 'gauge', 'V8 heap in use by this node process.', one(stats.heapUsedBytes))
    .add('casty_resident_memory_bytes', 'gauge', 'Resident set size of this node process.', one(stats.rssBytes));
  return text.toString();
}
