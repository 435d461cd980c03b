// The `telemetry` option of clustered(): the @opentelemetry/api module the application uses, and what to
// export. Checked at the call: users run tsx, which does not type-check, and a wrong value must say so at once.

import { InvalidArgumentError } from '@casty/core';
import type { OpenTelemetryApi } from './OpenTelemetryApi';

/** `clustered({ telemetry })`: OpenTelemetry metrics and traces of the node. */
export interface TelemetryOptions {
  /** The `@opentelemetry/api` module: `import * as api from '@opentelemetry/api'`. Its global providers are used. */
  readonly api: OpenTelemetryApi;
  /** Export metrics (instruments of the meter 'casty'). Default true. */
  readonly metrics?: boolean;
  /** Trace asks (spans of the tracer 'casty'; remote asks carry the W3C trace context). Default true. */
  readonly traces?: boolean;
}

/** The options with their defaults. */
export interface ResolvedTelemetryOptions {
  readonly api: OpenTelemetryApi;
  readonly metrics: boolean;
  readonly traces: boolean;
}

const FIELDS: ReadonlySet<string> = new Set(['api', 'metrics', 'traces']);
const HOW = "pass the @opentelemetry/api module: import * as api from '@opentelemetry/api', then clustered({ telemetry: { api } })";
/** What Casty calls on the module, by path. */
const FUNCTIONS = ['metrics.getMeter', 'trace.getTracer', 'trace.getSpan', 'trace.setSpan', 'trace.wrapSpanContext',
  'context.active', 'context.with'] as const;

/** @throws {InvalidArgumentError} naming the field that is wrong and what to pass. */
export function resolveTelemetryOptions(options: unknown): ResolvedTelemetryOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`clustered() option telemetry must be an object { api }, got ${String(options)}: ${HOW}`);
  }
  for (const key of Object.keys(options)) {
    if (!FIELDS.has(key)) {
      throw new InvalidArgumentError(`clustered() option telemetry has no field '${key}'; known fields are ${[...FIELDS].join(', ')}`);
    }
  }
  const { api, metrics = true, traces = true } = options as Partial<TelemetryOptions>;
  for (const path of FUNCTIONS) {
    const [group, name] = path.split('.') as [string, string];
    const holder = (api as unknown as Record<string, Record<string, unknown> | undefined> | undefined)?.[group];
    if (typeof holder?.[name] !== 'function') {
      throw new InvalidArgumentError(`clustered() option telemetry.api has no function ${path} ` +
        `(got ${api === undefined ? 'undefined' : typeof api}): ${HOW}`);
    }
  }
  for (const [field, value] of [['metrics', metrics], ['traces', traces]] as const) {
    if (typeof value !== 'boolean') {
      throw new InvalidArgumentError(`clustered() option telemetry.${field} must be true or false, got ${String(value)}`);
    }
  }
  return { api: api!, metrics, traces };
}
