// Asks as OpenTelemetry spans, and their latency. Two seams carry it: core's AskObserver sees every ask
// registered on this node (local asks, and those served for other nodes), remote messaging's RemoteTracer sees
// asks to other nodes and traced asks arriving from them.
//   remote ask:   a CLIENT span on the asker (a new trace when none is active), its W3C context in the envelope;
//                 a SERVER span on the responder, child of that context, and the actor handles the ask inside it.
//   local ask:    inside an active trace, an INTERNAL span, and the actor handles the ask inside it; outside any
//                 trace, no span (a local ask is too cheap to start traces for).
// So an ask an actor makes while handling a traced ask, to this node or another, joins the same trace.

import { classNameOf } from '@casty/core';
import type { AskObserver, AskTrace, PendingAsk } from '@casty/core/internal';
import type { ClientAskTrace, NodeId, RemoteTracer, ServerAskTrace } from '@casty/cluster';
import type { OpenTelemetryApi, OtelSpan, OtelSpanContext, OtelTracer } from './OpenTelemetryApi';
import type { AskKind, TelemetryMetrics } from './TelemetryMetrics';
import { formatTraceContext, parseTraceContext } from './traceContext';

// SpanKind and SpanStatusCode of the API (numbers fixed by the OpenTelemetry specification).
const INTERNAL = 0;
const SERVER = 1;
const CLIENT = 2;
const STATUS_ERROR = 2;

/** The API with the parameter types Casty passes (the public OpenTelemetryApi accepts any module shape). */
interface UsableApi {
  readonly trace: {
    getSpan(context: unknown): OtelSpan | undefined;
    setSpan(context: unknown, span: OtelSpan): unknown;
    wrapSpanContext(spanContext: OtelSpanContext): OtelSpan;
  };
  readonly context: { active(): unknown; with<T>(context: unknown, fn: () => T): T };
  createTraceState?(raw?: string): { serialize(): string };
}

/** One ask being timed, and traced when `span` is set. */
class TracedAsk implements AskTrace, ClientAskTrace, ServerAskTrace {
  readonly startedAt = performance.now();
  constructor(private readonly owner: AskTracing, private readonly kind: AskKind | undefined,
    private readonly span: OtelSpan | undefined, private readonly spanContext: unknown, readonly context: string) {}

  get traced(): boolean {
    return this.spanContext !== undefined;
  }

  run<T>(handle: () => T): T {
    return this.spanContext === undefined ? handle() : this.owner.runIn(this.spanContext, handle);
  }

  settled(failed: boolean, error: unknown): void {
    if (this.kind !== undefined) this.owner.metrics?.askSettled(this.kind, failed, (performance.now() - this.startedAt) / 1000);
    const span = this.span;
    if (span === undefined) return;
    if (failed) {
      if (error instanceof Error) span.recordException(error);
      span.setStatus({ code: STATUS_ERROR, message: error instanceof Error ? error.message : String(error) });
    }
    span.end();
  }
}

export class AskTracing implements AskObserver, RemoteTracer {
  private readonly api: UsableApi;
  /** True while a traced ask from another node is being delivered: its server span stands for the local ask too. */
  private serving = false;

  constructor(api: OpenTelemetryApi, private readonly nodeId: NodeId, private readonly tracer: OtelTracer | undefined,
    readonly metrics: TelemetryMetrics | undefined) {
    this.api = api as unknown as UsableApi;
  }

  runIn<T>(context: unknown, fn: () => T): T {
    return this.api.context.with(context, fn);
  }

  // ---- AskObserver: asks registered on this node ----

  started(ask: PendingAsk): AskTrace | undefined {
    const tracer = this.tracer;
    const kind = this.metrics === undefined ? undefined : 'local';
    if (tracer === undefined) return kind === undefined ? undefined : new TracedAsk(this, kind, undefined, undefined, '');
    const active = this.api.context.active();
    if (this.api.trace.getSpan(active) === undefined) {
      return kind === undefined ? undefined : new TracedAsk(this, kind, undefined, undefined, '');
    }
    if (this.serving) return new TracedAsk(this, kind, undefined, active, '');
    const span = tracer.startSpan(`ask ${classNameOf(ask.message)}`, { kind: INTERNAL,
      attributes: this.attributes(ask.target.path, ask.message) }, active);
    return new TracedAsk(this, kind, span, this.api.trace.setSpan(active, span), '');
  }

  // ---- RemoteTracer: asks to and from other nodes ----

  clientAsk(path: string, msg: unknown): ClientAskTrace {
    const kind = this.metrics === undefined ? undefined : 'remote';
    if (this.tracer === undefined) return new TracedAsk(this, kind, undefined, undefined, '');
    const span = this.tracer.startSpan(`ask ${classNameOf(msg)}`, { kind: CLIENT, attributes: this.attributes(path, msg) },
      this.api.context.active());
    return new TracedAsk(this, kind, span, undefined, formatTraceContext(span.spanContext()));
  }

  serverAsk(context: string, path: string, msg: unknown, from: NodeId): ServerAskTrace {
    if (this.tracer === undefined) return new TracedAsk(this, undefined, undefined, undefined, '');
    let parent = this.api.context.active();
    const remote = parseTraceContext(context);
    if (remote !== undefined) {
      const traceState = remote.traceState === '' ? undefined : this.api.createTraceState?.(remote.traceState);
      parent = this.api.trace.setSpan(parent, this.api.trace.wrapSpanContext({ traceId: remote.traceId, spanId: remote.spanId,
        traceFlags: remote.traceFlags, isRemote: true, ...(traceState === undefined ? {} : { traceState }) }));
    }
    const span = this.tracer.startSpan(`ask ${classNameOf(msg)}`, { kind: SERVER,
      attributes: { ...this.attributes(path, msg), 'casty.peer.node.id': from } }, parent);
    return new ServedAsk(this, span, this.api.trace.setSpan(parent, span));
  }

  /** Delivers a served ask inside its span's context, the local ask it becomes taking that span as its own. */
  serve(context: unknown, deliver: () => void): void {
    this.serving = true;
    try {
      this.runIn(context, deliver);
    } finally {
      this.serving = false;
    }
  }

  private attributes(path: string, msg: unknown): Record<string, string> {
    return { 'casty.node.id': this.nodeId, 'casty.actor.path': path, 'casty.message.type': classNameOf(msg) };
  }
}

/** The server side of a traced remote ask: its delivery is marked as served (see AskTracing.serve). */
class ServedAsk extends TracedAsk {
  constructor(private readonly tracing: AskTracing, span: OtelSpan, private readonly serverContext: unknown) {
    super(tracing, undefined, span, serverContext, '');
  }

  override run<T>(deliver: () => T): T {
    let result: T | undefined;
    this.tracing.serve(this.serverContext, () => {
      result = deliver();
    });
    return result as T;
  }
}
