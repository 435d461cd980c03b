// The OpenTelemetry SDK as a test installs it: an AsyncLocalStorage context manager, a tracer provider exporting
// to memory, a meter provider read by hand. Global, as an application's SDK is: every node of the process uses it.

import * as api from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { DataPoint, Histogram, MetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** A reader that collects only when the test asks. */
class ManualReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

export interface Sdk {
  readonly spans: InMemorySpanExporter;
  /** Every metric the meter 'casty' reports now. */
  metrics(): Promise<MetricData[]>;
  shutdown(): Promise<void>;
}

export function installSdk(): Sdk {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  api.context.setGlobalContextManager(contextManager);
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  api.trace.setGlobalTracerProvider(tracerProvider);
  const reader = new ManualReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  api.metrics.setGlobalMeterProvider(meterProvider);
  return {
    spans,
    async metrics() {
      const { resourceMetrics } = await reader.collect();
      return resourceMetrics.scopeMetrics.filter((s) => s.scope.name === 'casty').flatMap((s) => s.metrics);
    },
    async shutdown() {
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
      api.trace.disable();
      api.metrics.disable();
      api.context.disable();
    },
  };
}

/** The points of metric `name` whose attributes include `match`. */
export function points(metrics: MetricData[], name: string, match: Record<string, string> = {}): DataPoint<number | Histogram>[] {
  const metric = metrics.find((m) => m.descriptor.name === name);
  if (metric === undefined) return []; // an observable instrument that observed nothing yet has no points
  return (metric.dataPoints as DataPoint<number | Histogram>[]).filter((p) =>
    Object.entries(match).every(([key, value]) => p.attributes[key] === value));
}

/** The one value of metric `name` for `match`. */
export function value(metrics: MetricData[], name: string, match: Record<string, string>): number {
  const found = points(metrics, name, match);
  if (found.length !== 1) throw new Error(`${found.length} points of ${name} match ${JSON.stringify(match)}`);
  return found[0]!.value as number;
}

/** Spans by a short description, for readable failures. */
export function label(span: ReadableSpan): string {
  return `${api.SpanKind[span.kind]} ${span.name} on ${String(span.attributes['casty.node.id'])}`;
}
