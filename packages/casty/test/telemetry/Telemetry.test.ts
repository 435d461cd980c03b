// OpenTelemetry across two real nodes (clustered() on 127.0.0.1 in this process) with the SDK's in-memory
// span exporter and a metric reader collected by hand: one trace crosses the nodes (client span on the asker,
// server span on the responder, the responder's own asks nested in it, local and remote), the metrics are there
// with sane values, a node without the option creates nothing and still answers traced asks, and a wrong option
// is refused at the call.

import * as api from '@opentelemetry/api';
import { Actor, ClusterConfig, clustered, InvalidArgumentError, message, Request, silentLogger, Telemetry } from 'casty';
import type { ActorRef, ClusteredActorSystem, Context, ShardedRef } from 'casty';
import { waitUntil } from '@casty/core/testing';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { installSdk, label, points, value } from './otel';
import type { Sdk } from './otel';

@message('otel.Ping') class Ping extends Request<string> {}
/** Echo fails on it. */
@message('otel.Fail') class Fail extends Request<string> {}
/** Asks the local echo, then the echo of the other node, and answers with both replies. */
@message('otel.Relay') class Relay extends Request<string> {}

class Echo extends Actor<Ping | Fail> {
  constructor(private readonly nodeId: string) { super(); }
  override async receive(msg: Ping | Fail, ctx: Context<Ping | Fail>): Promise<void> {
    if (msg instanceof Fail) throw new Error('refused');
    ctx.reply(`pong from ${this.nodeId}`);
  }
}

class Relayer extends Actor<Relay> {
  constructor(private readonly local: ActorRef<Ping>, private readonly remote: () => Promise<ActorRef<Ping>>) { super(); }
  override async receive(_msg: Relay, ctx: Context<Relay>): Promise<void> {
    const here = await this.local.ask(new Ping());
    const there = await (await this.remote()).ask(new Ping());
    ctx.reply(`${here} + ${there}`);
  }
}

/** A sharded entity: answers with the node it runs on. */
class Where extends Actor<Ping> {
  override async receive(_msg: Ping, ctx: Context<Ping>): Promise<void> {
    ctx.reply(`pong from ${(ctx.system as ClusteredActorSystem).nodeId}`);
  }
}

/** Answers one Ping, then stops. */
class Quitter extends Actor<Ping> {
  override async receive(_msg: Ping, ctx: Context<Ping>): Promise<void> {
    ctx.reply('bye');
    await ctx.stop();
  }
}

/** Holds its mailbox until `open` is called: the messages sent meanwhile wait there. */
class Gate extends Actor<Ping> {
  constructor(private readonly closed: Promise<void>) { super(); }
  override async receive(): Promise<void> {
    await this.closed;
  }
}

const config = () => ClusterConfig.development({ logger: silentLogger });
const SERVER = api.SpanKind.SERVER;
const CLIENT = api.SpanKind.CLIENT;
const INTERNAL = api.SpanKind.INTERNAL;

async function lookup<T>(system: ClusteredActorSystem, name: string): Promise<ActorRef<T>> {
  const ref = await system.lookup(name);
  if (ref === undefined) throw new Error(`${name} not found from ${system.nodeId}`);
  return ref as ActorRef<T>;
}

const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;
const on = (node: string) => (span: ReadableSpan): boolean => span.attributes['casty.node.id'] === node;

describe('with telemetry on two nodes', () => {
  let sdk: Sdk;
  let a: ClusteredActorSystem;
  let b: ClusteredActorSystem;
  let plain: ClusteredActorSystem;
  let echoes: ShardedRef<Ping>;
  const tracer = () => api.trace.getTracer('test');

  beforeAll(async () => {
    sdk = installSdk();
    a = await clustered({ nodeId: 'a', config: config(), telemetry: { api } });
    const seeds = [`127.0.0.1:${a.address.port}`];
    [b, plain] = await Promise.all([clustered({ nodeId: 'b', seeds, config: config(), telemetry: { api } }),
      clustered({ nodeId: 'plain', seeds, config: config() })]);
    await waitUntil('every node sees three members', () => [a, b, plain].every((s) => s.members().length === 3), 15_000);
    await a.spawn(Echo, { name: 'echo-a', args: ['a'] });
    await plain.spawn(Echo, { name: 'echo-plain', args: ['plain'] });
    const echoB = await b.spawn(Echo, { name: 'echo-b', args: ['b'] });
    await b.spawn(Relayer, { name: 'relay-b', args: [echoB, () => lookup<Ping>(b, 'echo-a')] });
    [echoes] = await Promise.all([a, b, plain].map((s) => s.spawn(Where, { name: 'echoes', sharded: true }))) as [ShardedRef<Ping>];
  });

  afterAll(async () => {
    await Promise.all([a, b, plain].map((s) => s?.shutdown()));
    await sdk?.shutdown();
  });

  beforeEach(() => sdk.spans.reset());

  test('a remote ask inside a trace: client span on the asker, server span on the responder, one trace', async () => {
    const echo = await lookup<Ping>(a, 'echo-b');
    sdk.spans.reset();
    const root = tracer().startSpan('request');
    const reply = await api.context.with(api.trace.setSpan(api.context.active(), root), () => echo.ask(new Ping()));
    root.end();
    expect(reply).toBe('pong from b');
    await waitUntil('the server span has ended', () => sdk.spans.getFinishedSpans().some((s) => s.kind === SERVER));
    const spans = sdk.spans.getFinishedSpans();
    const client = spans.find((s) => s.kind === CLIENT)!;
    const server = spans.find((s) => s.kind === SERVER)!;
    expect([client, server].map(label)).toEqual(['CLIENT ask Ping on a', 'SERVER ask Ping on b']);
    const traceId = root.spanContext().traceId;
    expect(client.spanContext().traceId).toBe(traceId);
    expect(server.spanContext().traceId).toBe(traceId);
    expect(parentOf(client)).toBe(root.spanContext().spanId);
    expect(parentOf(server)).toBe(client.spanContext().spanId);
    expect(server.attributes['casty.peer.node.id']).toBe('a');
    expect(client.attributes['casty.actor.path']).toContain('/user/echo-b');
    // The served ask is the server span: no extra span for the local delivery on b.
    expect(spans.filter((s) => s.instrumentationScope.name === 'casty' && s.kind === INTERNAL)).toHaveLength(0);
  });

  test('the responder\'s own asks, local and remote, join the trace under its server span', async () => {
    const relay = await lookup<Relay>(a, 'relay-b');
    await lookup<Ping>(b, 'echo-a'); // resolved once, so the trace holds asks only
    sdk.spans.reset();
    const reply = await tracer().startActiveSpan('request', async (root) => {
      try {
        return await relay.ask(new Relay());
      } finally {
        root.end();
      }
    });
    expect(reply).toBe('pong from b + pong from a');
    await waitUntil('six spans have ended', () => sdk.spans.getFinishedSpans().length >= 6);
    const spans = sdk.spans.getFinishedSpans();
    const traceIds = new Set(spans.map((s) => s.spanContext().traceId));
    expect(traceIds.size).toBe(1);
    const root = spans.find((s) => s.name === 'request')!;
    const clientA = spans.find((s) => s.kind === CLIENT && on('a')(s))!;
    const serverB = spans.find((s) => s.kind === SERVER && on('b')(s))!;
    const localB = spans.find((s) => s.kind === INTERNAL && on('b')(s))!;
    const clientB = spans.find((s) => s.kind === CLIENT && on('b')(s))!;
    const serverA = spans.find((s) => s.kind === SERVER && on('a')(s))!;
    expect([clientA, serverB, localB, clientB, serverA].map(label)).toEqual(['CLIENT ask Relay on a', 'SERVER ask Relay on b',
      'INTERNAL ask Ping on b', 'CLIENT ask Ping on b', 'SERVER ask Ping on a']);
    expect(parentOf(clientA)).toBe(root.spanContext().spanId);
    expect(parentOf(serverB)).toBe(clientA.spanContext().spanId);
    expect(parentOf(localB)).toBe(serverB.spanContext().spanId);
    expect(parentOf(clientB)).toBe(serverB.spanContext().spanId);
    expect(parentOf(serverA)).toBe(clientB.spanContext().spanId);
    expect(spans).toHaveLength(6);
  });

  test('a remote ask outside any trace starts one; a local ask outside any trace makes no span', async () => {
    const echo = await lookup<Ping>(a, 'echo-b');
    const local = await lookup<Ping>(a, 'echo-a');
    sdk.spans.reset();
    await local.ask(new Ping());
    await echo.ask(new Ping());
    await waitUntil('the server span has ended', () => sdk.spans.getFinishedSpans().some((s) => s.kind === SERVER));
    const spans = sdk.spans.getFinishedSpans();
    expect(spans.map(label).sort()).toEqual(['CLIENT ask Ping on a', 'SERVER ask Ping on b']);
    const client = spans.find((s) => s.kind === CLIENT)!;
    expect(parentOf(client)).toBeUndefined();
    expect(spans.find((s) => s.kind === SERVER)!.spanContext().traceId).toBe(client.spanContext().traceId);
  });

  test('a local ask inside a trace joins it', async () => {
    const local = await lookup<Ping>(a, 'echo-a');
    sdk.spans.reset();
    await tracer().startActiveSpan('request', async (root) => {
      await local.ask(new Ping());
      root.end();
    });
    const spans = sdk.spans.getFinishedSpans();
    const root = spans.find((s) => s.name === 'request')!;
    const ask = spans.find((s) => s.kind === INTERNAL && s.name === 'ask Ping')!;
    expect(label(ask)).toBe('INTERNAL ask Ping on a');
    expect(ask.spanContext().traceId).toBe(root.spanContext().traceId);
    expect(parentOf(ask)).toBe(root.spanContext().spanId);
  });

  test('a failed remote ask ends its client span with an error status', async () => {
    const echo = await lookup<Fail>(a, 'echo-b');
    sdk.spans.reset();
    await expect(echo.ask(new Fail())).rejects.toThrow('refused');
    const client = sdk.spans.getFinishedSpans().find((s) => s.kind === CLIENT)!;
    expect(client.status.code).toBe(api.SpanStatusCode.ERROR);
  });

  test('a node without telemetry answers a traced ask, and makes no span of its own', async () => {
    const echo = await lookup<Ping>(a, 'echo-plain');
    sdk.spans.reset();
    await expect(tracer().startActiveSpan('request', async (root) => {
      try {
        return await echo.ask(new Ping());
      } finally {
        root.end();
      }
    })).resolves.toBe('pong from plain');
    const spans = sdk.spans.getFinishedSpans();
    expect(spans.filter((s) => s.name !== 'request').map(label)).toEqual(['CLIENT ask Ping on a']);
    expect(spans.some(on('plain'))).toBe(false);
  });

  test('an ask to a sharded entity on the other node is traced across, and the entities are counted', async () => {
    // Entity ids until one lives on b (the entity answers with the node it runs on).
    let onB: string | undefined;
    const seen: string[] = [];
    for (let i = 0; onB === undefined && i < 64; i++) {
      const answer = await echoes.entity(`e${i}`).ask(new Ping(), { timeout: 5_000 });
      seen.push(answer);
      if (answer === 'pong from b') onB = `e${i}`;
    }
    expect(seen).toContain('pong from b');
    sdk.spans.reset();
    await tracer().startActiveSpan('request', async (root) => {
      await expect(echoes.entity(onB!).ask(new Ping())).resolves.toBe('pong from b');
      root.end();
    });
    await waitUntil('b has ended a span', () => sdk.spans.getFinishedSpans().some(on('b')));
    const spans = sdk.spans.getFinishedSpans();
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);
    expect(spans.some((s) => on('a')(s) && s.kind === CLIENT)).toBe(true);
    expect(spans.some((s) => on('b')(s) && s.kind === SERVER)).toBe(true);
    const metrics = await sdk.metrics();
    const type = (id: string) => ({ 'casty.node.id': id, 'casty.sharding.type': 'echoes' });
    // Each entity asked is active where it answered from (plain exports nothing: it has no telemetry).
    for (const id of ['a', 'b']) {
      expect(value(metrics, 'casty.sharding.entities', type(id))).toBe(seen.filter((answer) => answer === `pong from ${id}`).length);
    }
    expect(value(metrics, 'casty.sharding.shards', type('a')) + value(metrics, 'casty.sharding.shards', type('b'))).toBeGreaterThan(0);
  });

  test('Telemetry.start checks its options, and starts once per node', () => {
    expect(Telemetry.of(a)).toBeDefined();
    expect(Telemetry.of(plain)).toBeUndefined();
    expect(() => Telemetry.start(a, { api })).toThrow(/Telemetry is already started on node 'a'/);
    expect(() => Telemetry.start(plain, {} as never)).toThrow(InvalidArgumentError);
    expect(Telemetry.of(plain)).toBeUndefined();
  });

  test('dead letters are counted by reason', async () => {
    const gone = await a.spawn(Quitter, { name: 'quitter' });
    await gone.ask(new Ping());
    await waitUntil('the quitter has stopped', () => a.lookupLocal('quitter') === undefined);
    const before = points(await sdk.metrics(), 'casty.dead_letters', { 'casty.node.id': 'a', 'casty.dead_letter.reason': 'stopped' });
    await gone.send(new Ping());
    await gone.send(new Ping());
    const after = value(await sdk.metrics(), 'casty.dead_letters', { 'casty.node.id': 'a', 'casty.dead_letter.reason': 'stopped' });
    expect(after).toBe(((before[0]?.value as number | undefined) ?? 0) + 2);
  });

  test('metrics: messages, asks and their latency, transport, members, mailboxes, per node', async () => {
    const echo = await lookup<Ping>(a, 'echo-b');
    const local = await lookup<Ping>(a, 'echo-a');
    for (let i = 0; i < 5; i++) await echo.ask(new Ping());
    for (let i = 0; i < 3; i++) await local.ask(new Ping());
    let open!: () => void;
    const gate = await a.spawn(Gate, { args: [new Promise<void>((resolve) => { open = resolve; })] });
    for (let i = 0; i < 6; i++) await gate.send(new Ping());
    const metrics = await sdk.metrics();
    open();
    const node = (id: string) => ({ 'casty.node.id': id });
    // The first message holds the gate; the five behind it wait in its mailbox.
    expect(value(metrics, 'casty.mailbox.depth', node('a'))).toBeGreaterThanOrEqual(5);
    expect(value(metrics, 'casty.mailbox.depth.max', node('a'))).toBeGreaterThanOrEqual(5);
    expect(value(metrics, 'casty.mailbox.depth.max', node('a'))).toBeLessThanOrEqual(6);
    for (const id of ['a', 'b']) {
      expect(value(metrics, 'casty.messages.processed', node(id))).toBeGreaterThan(0);
      expect(value(metrics, 'casty.transport.frames.sent', node(id))).toBeGreaterThan(0);
      expect(value(metrics, 'casty.transport.bytes.received', node(id))).toBeGreaterThan(value(metrics, 'casty.transport.frames.received', node(id)));
      expect(value(metrics, 'casty.cluster.members', { ...node(id), 'casty.member.state': 'alive' })).toBe(3);
      expect(value(metrics, 'casty.cluster.members', { ...node(id), 'casty.member.state': 'dead' })).toBe(0);
      expect(value(metrics, 'casty.cluster.suspicions', node(id))).toBe(0);
      expect(value(metrics, 'casty.mailbox.depth', node(id))).toBeGreaterThanOrEqual(0);
      expect(value(metrics, 'casty.asks', node(id))).toBeGreaterThan(0);
    }
    expect(points(metrics, 'casty.messages.processed', node('plain'))).toHaveLength(0);
    const remote = points(metrics, 'casty.ask.duration', { ...node('a'), 'casty.ask.kind': 'remote', 'casty.ask.outcome': 'ok' });
    const histogram = remote[0]!.value as { count: number; min?: number; max?: number; sum: number };
    expect(histogram.count).toBeGreaterThanOrEqual(5);
    expect(histogram.min!).toBeGreaterThan(0);
    expect(histogram.max!).toBeLessThan(5); // seconds: a loopback ask takes milliseconds
    const served = points(metrics, 'casty.ask.duration', { ...node('b'), 'casty.ask.kind': 'local', 'casty.ask.outcome': 'ok' });
    expect((served[0]!.value as { count: number }).count).toBeGreaterThanOrEqual(5);
    expect(points(metrics, 'casty.sharding.hand_offs', node('a'))).toHaveLength(1);
  });
});

describe('without the option', () => {
  test('no meter and no tracer is asked for, and remote asks still work', async () => {
    const getMeter = jest.spyOn(api.metrics, 'getMeter');
    const getTracer = jest.spyOn(api.trace, 'getTracer');
    const getSpan = jest.spyOn(api.trace, 'getSpan');
    try {
      const a = await clustered({ nodeId: 'x', config: config() });
      const b = await clustered({ nodeId: 'y', seeds: [`127.0.0.1:${a.address.port}`], config: config() });
      try {
        await waitUntil('both nodes see two members', () => [a, b].every((s) => s.members().length === 2), 15_000);
        await b.spawn(Echo, { name: 'echo-y', args: ['y'] });
        const echo = await lookup<Ping>(a, 'echo-y');
        expect(await echo.ask(new Ping())).toBe('pong from y');
      } finally {
        await Promise.all([a.shutdown(), b.shutdown()]);
      }
      expect(getMeter).not.toHaveBeenCalled();
      expect(getTracer).not.toHaveBeenCalled();
      expect(getSpan).not.toHaveBeenCalled();
    } finally {
      jest.restoreAllMocks();
    }
  });
});

describe('a wrong telemetry option is refused at the call', () => {
  test.each([
    [{}, /telemetry\.api has no function metrics\.getMeter.*import \* as api from '@opentelemetry\/api'/],
    [{ api: { metrics: {} } }, /telemetry\.api has no function metrics\.getMeter/],
    [{ api: { ...api, context: undefined } }, /telemetry\.api has no function context\.active/],
    [{ api, trace: true }, /telemetry has no field 'trace'; known fields are api, metrics, traces/],
    [{ api, traces: 'yes' }, /telemetry\.traces must be true or false, got yes/],
    ['api', /telemetry must be an object \{ api \}/],
  ])('%p', async (telemetry, error) => {
    const call = clustered({ config: config(), telemetry: telemetry as never });
    await expect(call).rejects.toThrow(InvalidArgumentError);
    await expect(call).rejects.toThrow(error);
  });
});
