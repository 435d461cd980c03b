// The OpenTelemetry SDK as an application would install it, for the telemetry bench: context through
// AsyncLocalStorage, every span sampled and exported in batches, metrics read by a reader. The exporters drop
// what they get: the bench measures what Casty's instrumentation costs, not an exporter's I/O.

import * as api from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

class DroppingExporter implements SpanExporter {
  exported = 0;
  export(spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    this.exported += spans.length;
    done({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Collected only when asked (the bench collects once, at the end, to check the metrics were made). */
class ManualReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Installs the SDK globally; returns the API to pass to clustered({ telemetry: { api } }). Every trace is sampled,
 * or the fraction `sampleRatio` of them.
 */
export function installOtelSdk(sampleRatio = 1): typeof api {
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const sampler = new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(sampleRatio) });
  api.trace.setGlobalTracerProvider(new BasicTracerProvider({ sampler,
    spanProcessors: [new BatchSpanProcessor(new DroppingExporter())] }));
  api.metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new ManualReader()] }));
  return api;
}
