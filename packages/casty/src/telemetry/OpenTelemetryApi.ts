// The part of the `@opentelemetry/api` module that Casty uses, written out structurally: Casty never imports
// the package (a dynamic require would break the ESM bundle, a static one would make it a hard dependency), so
// the user passes the module itself, `clustered({ telemetry: { api } })`, and users without the package still
// compile against these declarations. Methods use method syntax so that the real module, whose parameters are
// its own Context and Span types, is assignable.

/** Attributes of a span or a measurement. */
export type OtelAttributes = Readonly<Record<string, string | number | boolean>>;

/** A span's identity, as `span.spanContext()` gives it and `trace.wrapSpanContext` takes it. */
export interface OtelSpanContext {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
  readonly isRemote?: boolean;
  readonly traceState?: { serialize(): string };
}

export interface OtelSpan {
  spanContext(): OtelSpanContext;
  setAttribute(key: string, value: string | number | boolean): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  recordException(exception: Error): void;
  end(): void;
}

export interface OtelTracer {
  startSpan(name: string, options?: { kind?: number; attributes?: OtelAttributes }, context?: unknown): OtelSpan;
}

export interface OtelObservable {
  addCallback(callback: never): void;
}

export interface OtelHistogram {
  record(value: number, attributes?: OtelAttributes): void;
}

export interface OtelBatchResult {
  observe(observable: OtelObservable, value: number, attributes?: OtelAttributes): void;
}

export interface OtelInstrumentOptions {
  description?: string;
  unit?: string;
  advice?: { explicitBucketBoundaries?: number[] };
}

export interface OtelMeter {
  createHistogram(name: string, options?: OtelInstrumentOptions): OtelHistogram;
  createObservableCounter(name: string, options?: OtelInstrumentOptions): OtelObservable;
  createObservableGauge(name: string, options?: OtelInstrumentOptions): OtelObservable;
  createObservableUpDownCounter(name: string, options?: OtelInstrumentOptions): OtelObservable;
  addBatchObservableCallback(callback: (result: OtelBatchResult) => void, observables: OtelObservable[]): void;
  removeBatchObservableCallback(callback: (result: OtelBatchResult) => void, observables: OtelObservable[]): void;
}

/** The `@opentelemetry/api` module (`import * as api from '@opentelemetry/api'`), as far as Casty uses it. */
export interface OpenTelemetryApi {
  readonly metrics: { getMeter(name: string, version?: string): OtelMeter };
  readonly trace: {
    getTracer(name: string, version?: string): OtelTracer;
    getSpan(context: never): OtelSpan | undefined;
    setSpan(context: never, span: never): unknown;
    wrapSpanContext(spanContext: never): OtelSpan;
  };
  readonly context: {
    active(): unknown;
    with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: never, fn: F, thisArg?: ThisParameterType<F>,
      ...args: A): ReturnType<F>;
  };
  createTraceState?(raw?: string): unknown;
}
