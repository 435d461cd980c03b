// A burst of tells between two real processes, and what it does to failure detection and to the tells:
//
//   npx --yes pnpm@10.34.9 --filter @casty/bench run bench:burst   (= node --import tsx transport-burst.bench.ts)
//
// Each run starts two node processes (packages/casty/test/cluster/fixtures/node.ts against the built packages,
// the same program the multi-process tests run): a receiver with a slow sink (bounded mailbox of 10,000,
// drop-newest, 10 ms a message) and a sender seeded with it. Once both see both alive, the sender floods the
// sink with tells as fast as it can (its event loop turning every 1,000 sends; a send rejected for backpressure
// waits until the queue to the receiver is below half its limit and is retried), while it asks the receiver's
// echo service every 100 ms. Then the bench waits until every accepted tell is accounted for, or until nothing
// moves for 2 s, and counts:
//
//   suspicions, downs   MemberSuspect / MemberDown events published by either node during the run (target 0)
//   lost                tells whose send() resolved but that the receiver never processed, queued or
//                       dead-lettered, and the sender did not count as dropped (target 0)
//   probe worst         the longest a SWIM probe of either node waited for its answer during the flood
//                       (Swim.probeStats), against the probe timeout; and how many probes went unanswered
//   echo worst          the worst round trip of the echo asks sent under the flood: behind the flood's frames on
//                       the same (data) connection, so it shows how far behind the receiver is, not failure detection
//   loop max            the flooded receiver's worst event-loop delay (perf_hooks.monitorEventLoopDelay)
//   accepted/s          tells accepted per second of the flood; delivered/s: tells that reached the receiver
//                       (processed, queued or dead-lettered there) per second, from the flood's start until the
//                       last one arrived
//
// Runs: 1,000,000 small tells and BURST_LARGE (default 8,000) tells of 64 KiB (about as long on this machine),
// with the development and the production preset (BURST_PRESETS=development,production). BURST_SMALL sets the
// small count. The verdict: 0 suspicions, 0 downs, 0 lost in every run; the exit code is non-zero otherwise.
// The build must be current (npm run build). No baseline here: the targets are absolute (zero).

import * as os from 'node:os';
import { waitUntil } from '../packages/cluster/dist/testing/index.js';
import { ChildNode, killAll } from '../packages/casty/test/cluster/children';

const SMALL = Number(process.env.BURST_SMALL ?? 1_000_000);
const LARGE = Number(process.env.BURST_LARGE ?? 8_000);
const PRESETS = (process.env.BURST_PRESETS ?? 'development,production').split(',') as Array<'development' | 'production'>;
const PROBE_TIMEOUT_MS = { development: 100, production: 500 };

const now = () => performance.timeOrigin + performance.now();

type Counts = Record<string, number>;
type Reply = Record<string, unknown>;
const sum = (counts: unknown): number => Object.values((counts ?? {}) as Counts).reduce((a, b) => a + Number(b), 0);

interface Result {
  preset: string;
  payloadBytes: number;
  count: number;
  accepted: number;
  rejected: number;
  lost: number;
  suspicions: number;
  downs: number;
  echoWorstMs: number;
  echoFailed: number;
  /** The longest a SWIM probe of either node waited for its answer during the flood (NaN: the build has no probeStats). */
  probeWorstMs: number;
  probesFailed: number;
  probes: number;
  loopMaxMs: number;
  acceptedPerS: number;
  deliveredPerS: number;
  detail: string;
}

async function run(preset: 'development' | 'production', count: number, payloadBytes: number): Promise<Result> {
  const receiver = await ChildNode.start({ nodeId: 'r', preset, logDebug: true,
    sinks: [{ name: 'sink', delayMs: 10, capacity: 10_000, overflow: 'drop-newest' }] });
  const sender = await ChildNode.start({ nodeId: 's', preset, seeds: [receiver.address], logDebug: true });
  const nodes = [receiver, sender];
  try {
    await waitUntil('both nodes see both alive', async () => {
      const views = await Promise.all(nodes.map((n) => n.request('members', {}, 5_000)));
      return views.every((v) => (v.view as string[]).length === 2 && (v.view as string[]).every((m) => m.includes('=alive@')));
    }, 30_000, () => nodes.map((n) => ({ node: n.nodeId, events: n.events, stderr: n.errors.slice(-600) })));
    const marks = nodes.map((n) => n.events.length);
    await Promise.all(nodes.map((n) => n.request('stats', { reset: true })));

    const started = now();
    const probeStarted = await sender.request('probe-start', { name: 'service-r', everyMs: 100 });
    if (probeStarted.error !== undefined) throw new Error(`the echo probe did not start: ${String(probeStarted.error)}`);
    const flood = await sender.request('flood', { name: 'sink', count, payloadBytes }, 600_000);
    if (flood.error !== undefined) throw new Error(`the flood failed: ${String(flood.error)}`);
    const accepted = Number(flood.accepted);

    let accounted = 0;
    let detail = '';
    let last = -1;
    let lastChange = now();
    await waitUntil('every accepted tell is accounted for, or nothing moves for 2 s', async () => {
      const [sink, tx, txDead] = await Promise.all([receiver.request('sink-stats', { name: 'sink' }),
        sender.request('stats', { peers: [receiver.address] }), sender.request('dead-letters')]);
      const senderDeadLetters = Object.entries(txDead.deadLetters as Record<string, Counts>)
        .filter(([recipient]) => recipient.includes('/sink')).reduce((n, [, reasons]) => n + sum(reasons), 0);
      // Tells the sender's transport dropped become dead letters there; framesDropped also counts membership's frames.
      const senderDropped = Math.max(senderDeadLetters, Number((tx.transport as Counts).framesDropped ?? 0));
      const atReceiver = Number(sink.started) + Number(sink.queued) + sum(sink.deadLetters);
      accounted = atReceiver + senderDropped;
      detail = `processed ${String(sink.started)}, queued ${String(sink.queued)}, dead-lettered ${JSON.stringify(sink.deadLetters)} ` +
        `at the receiver; dropped at the sender ${senderDropped}`;
      if (accounted !== last) [last, lastChange] = [accounted, now()];
      const pending = (tx.peers as Record<string, { pendingBytes: number } | null>)[receiver.address]?.pendingBytes ?? 0;
      return accounted >= accepted || (pending === 0 && now() - lastChange >= 2_000);
    }, 300_000, () => ({ accepted, accounted, detail }));
    // The echo probe ran from the flood's start until the receiver had everything (or nothing moved any more).
    const probe = await sender.request('probe-stop', {}, 60_000) as { asks: number; failed: number; worstMs: number };
    const deliveredMs = lastChange - started;

    const [rx, tx] = await Promise.all(nodes.map((n) => n.request('stats'))) as [Reply, Reply];
    // SWIM's probes on both nodes during the flood: the longest a probe waited for its answer, and how many failed.
    const probes = [rx, tx].map((st) => (st?.swim ?? { probes: 0, acked: 0, failed: 0, maxAckMs: Number.NaN }) as Counts);
    const events = nodes.flatMap((n, i) => n.events.slice(marks[i]));
    const replaced = nodes.flatMap((n) => n.logs).filter((l) => /replaced by a newer connection/.test(l.message)).length;
    return {
      preset, payloadBytes, count, accepted, rejected: Number(flood.rejected), lost: accepted - accounted,
      suspicions: events.filter((e) => e.type === 'MemberSuspect').length,
      downs: events.filter((e) => e.type === 'MemberDown').length,
      echoWorstMs: probe.worstMs, echoFailed: probe.failed,
      probeWorstMs: Math.max(...probes.map((p) => Number(p.maxAckMs))),
      probesFailed: sum(probes.map((p) => Number(p.failed))), probes: sum(probes.map((p) => Number(p.probes))),
      loopMaxMs: Number((rx.loop as Counts).maxMs),
      acceptedPerS: accepted / (Number(flood.ms) / 1000),
      deliveredPerS: accounted / (Math.max(deliveredMs, 1) / 1000),
      detail: `${detail}; rejected ${String(flood.rejected)} ${JSON.stringify(flood.errors)}; backpressure retries ` +
        `${String(flood.retries)}; flood ${(Number(flood.ms) / 1000).toFixed(2)} s; echo asks ${probe.asks} (${probe.failed} failed); ` +
        `connection replacements logged ${replaced}; events ${JSON.stringify(events.map((e) => `${((e.at - started) / 1000).toFixed(2)}s ${e.type}(${e.node})`))}`,
    };
  } finally {
    await killAll();
  }
}

const k = (v: number) => (v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : v >= 1e3 ? `${(v / 1e3).toFixed(0)}k` : v.toFixed(0));
const size = (bytes: number) => (bytes === 0 ? 'small' : `${bytes / 1024} KiB`);

async function main(): Promise<void> {
  const loadAtStart = os.loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`Transport burst: two processes over loopback; a slow sink (10,000 mailbox, drop-newest, 10 ms/msg) flooded.`);
  const results: Result[] = [];
  for (const preset of PRESETS) {
    for (const [count, payloadBytes] of [[SMALL, 0], [LARGE, 65_536]] as const) {
      const result = await run(preset, count, payloadBytes);
      results.push(result);
      console.log(`  ${preset} ${size(payloadBytes)} x ${count}: ${result.detail}`);
    }
  }
  const verdict = (r: Result) => (r.suspicions === 0 && r.downs === 0 && r.lost === 0 ? 'PASS' : 'FAIL');
  console.log('');
  console.log('| preset | tells | accepted | suspicions (target 0) | downs (target 0) | accepted but lost (target 0) | ' +
    'worst SWIM probe answer, both nodes (probe timeout) | probes failed | echo ask worst (data lane) | receiver loop delay max | accepted/s | delivered/s | result |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of results) {
    console.log(`| ${r.preset} | ${k(r.count)} x ${size(r.payloadBytes)} | ${r.accepted} | ${r.suspicions} | ${r.downs} | ${r.lost} | ` +
      `${Number.isNaN(r.probeWorstMs) ? 'n/a' : `${r.probeWorstMs.toFixed(0)} ms`} (${PROBE_TIMEOUT_MS[r.preset as 'development']} ms) | ` +
      `${r.probesFailed} of ${r.probes} | ${r.echoWorstMs.toFixed(0)} ms${r.echoFailed > 0 ? ` (${r.echoFailed} failed)` : ''} | ` +
      `${r.loopMaxMs.toFixed(0)} ms | ${k(r.acceptedPerS)} | ${k(r.deliveredPerS)} | ${verdict(r)} |`);
  }
  console.log(`\nLoad average at start ${loadAtStart}, at end ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} (${os.cpus().length} cores).`);
  const failed = results.filter((r) => verdict(r) === 'FAIL').length;
  console.log(failed === 0 ? 'PASS: no suspicion, no down, no accepted tell lost.' : `FAIL: ${failed} of ${results.length} runs.`);
  process.exitCode = failed === 0 ? 0 : 1;
}

main().catch(async (error: unknown) => {
  console.error(error);
  await killAll();
  process.exitCode = 1;
});
