// Over real TCP in one process: a node joins a node whose replicated entities hold more state than the outbound
// queue to the joiner takes at once (4 MiB here). The hand-off's parts and the replicas go as the connection takes
// them (BulkSends), so every state arrives, nothing is logged as lost, and the messages around them (the HandOff,
// its Done, acknowledgements) are not refused: sent at once, they filled the queue, the HandOff failed with
// TransportBackpressureError and, sent with `void`, that rejection killed the process.

import { Actor, ClusterConfig, clustered, HashRing, message, Request, Sharding } from 'casty';
import type { ClusteredActorSystem, Context } from 'casty';
import { CapturingLogger } from '@casty/cluster/testing';
import { waitUntil } from '@casty/core/testing';

@message('test.bulk.Fill') class Fill extends Request<number> { constructor(readonly bytes: number) { super(); } }
@message('test.bulk.Get') class Get extends Request<{ size: number; node: string }> {}

class Blob extends Actor<Fill | Get> {
  blob = '';
  constructor(readonly entityId: string, private readonly _node: string) { super(); }
  override receive(msg: Fill | Get, ctx: Context<Fill | Get>): void {
    if (msg instanceof Fill) ctx.reply((this.blob = 'x'.repeat(msg.bytes)).length);
    else ctx.reply({ size: this.blob.length, node: this._node });
  }
}

const LIMITS = { maxFrameBytes: 2 * 1024 * 1024, outboundQueueBytes: 4 * 1024 * 1024 };
const N = 60;
const BYTES = 400_000; // 24 MB of state in all: six times the queue

test('a joiner gets 24 MB of hand-offs and replicas through a 4 MiB outbound queue, every state, nothing lost', async () => {
  const logs = { a: new CapturingLogger(1_000), b: new CapturingLogger(1_000) };
  const systems: ClusteredActorSystem[] = [];
  try {
    const a = await clustered({ port: 0, nodeId: 'a', config: ClusterConfig.development({ logger: logs.a, ...LIMITS }) });
    systems.push(a);
    const spawn = (system: ClusteredActorSystem, node: string) => system.spawn(Blob, { name: 'blobs', sharded: true, args: [node],
      replication: { factor: 2, syncCount: 1, timeout: 30_000 } });
    const blobs = await spawn(a, 'a');
    const ids = Array.from({ length: N }, (_, i) => `blob-${i}`);
    await Promise.all(ids.map((id) => blobs.entity(id).ask(new Fill(BYTES), { timeout: 30_000 })));
    const b = await clustered({ port: 0, nodeId: 'b', seeds: [`127.0.0.1:${a.address.port}`],
      config: ClusterConfig.development({ logger: logs.b, ...LIMITS }) });
    systems.push(b);
    await spawn(b, 'b');
    const ring = HashRing.of(['a', 'b'], { shardCount: Sharding.of(a).shardCount });
    const onB = ids.filter((id) => ring.ownerOf(Sharding.of(a).shardOf(id)) === 'b');
    expect(onB.length).toBeGreaterThan(10);
    // b holds the shards the ring gives it, with their states, and keeps a replica of every other entity
    const replicas = () => Sharding.of(b).stats().types.find((t) => t.typeName === 'blobs')?.replicaEntities ?? 0;
    await waitUntil(`b keeps a state of all ${N} entities`, () => replicas() >= N, 60_000,
      () => ({ replicas: replicas(), a: Sharding.of(a).stats(), b: Sharding.of(b).stats() }));
    let views: Array<{ size: number; node: string }> = [];
    const onBNow = () => ids.filter((_, i) => views[i]!.node === 'b');
    await waitUntil(`the ${onB.length} entities b owns answer from b`, async () => {
      views = await Promise.all(ids.map((id) => blobs.entity(id).ask(new Get(), { timeout: 30_000 })));
      return onBNow().length === onB.length;
    }, 60_000, () => ({ onB: onBNow().length, ring: Sharding.of(a).currentRing.members, b: Sharding.of(b).stats() }));
    expect(onBNow().sort()).toEqual([...onB].sort());
    expect(views.map((v, i) => `${ids[i]}: ${v.size}`).filter((v) => !v.endsWith(`: ${BYTES}`))).toEqual([]);
    for (const logger of Object.values(logs)) {
      expect(logger.entries.filter((e) => e.level === 'error' || /could not be sent/.test(e.message)).map((e) => e.message)).toEqual([]);
    }
  } finally {
    for (const system of systems.reverse()) await system.shutdown();
  }
}, 120_000);
