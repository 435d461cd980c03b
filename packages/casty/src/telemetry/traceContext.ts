// The W3C trace context (https://www.w3.org/TR/trace-context/) of a remote ask, written and read here rather
// than through the API's global propagator: that one is whatever the application registered (possibly none,
// or B3), while the envelope always carries W3C `traceparent`, then a newline and `tracestate` if any.

import type { OtelSpanContext } from './OpenTelemetryApi';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const INVALID_TRACE_ID = '0'.repeat(32);
const INVALID_SPAN_ID = '0'.repeat(16);

/** `traceparent`, then '\n' and the tracestate when the span has a non-empty one. */
export function formatTraceContext(span: OtelSpanContext): string {
  const flags = (span.traceFlags & 0xff).toString(16).padStart(2, '0');
  const parent = `00-${span.traceId}-${span.spanId}-${flags}`;
  const state = span.traceState?.serialize() ?? '';
  return state === '' ? parent : `${parent}\n${state}`;
}

/** The remote parent that `context` names, or undefined when it is not a valid version-00 traceparent. */
export function parseTraceContext(context: string): { readonly traceId: string; readonly spanId: string;
  readonly traceFlags: number; readonly traceState: string } | undefined {
  const newline = context.indexOf('\n');
  const parent = newline < 0 ? context : context.slice(0, newline);
  const match = TRACEPARENT.exec(parent);
  if (match === null || match[1] === INVALID_TRACE_ID || match[2] === INVALID_SPAN_ID) return undefined;
  return { traceId: match[1]!, spanId: match[2]!, traceFlags: parseInt(match[3]!, 16),
    traceState: newline < 0 ? '' : context.slice(newline + 1) };
}
