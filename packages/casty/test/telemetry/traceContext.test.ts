// The W3C trace context a remote ask carries: written from a span context, read back, and anything that is not
// a valid version-00 traceparent read as no parent (the server span then starts from the active context).

import { formatTraceContext, parseTraceContext } from '../../src/telemetry/traceContext';

const traceId = '0af7651916cd43dd8448eb211c80319c';
const spanId = 'b7ad6b7169203331';

test('traceparent alone, or with the tracestate after a newline', () => {
  expect(formatTraceContext({ traceId, spanId, traceFlags: 1 })).toBe(`00-${traceId}-${spanId}-01`);
  expect(formatTraceContext({ traceId, spanId, traceFlags: 0, traceState: { serialize: () => 'congo=t61rcWkgMzE' } }))
    .toBe(`00-${traceId}-${spanId}-00\ncongo=t61rcWkgMzE`);
  expect(formatTraceContext({ traceId, spanId, traceFlags: 1, traceState: { serialize: () => '' } })).toBe(`00-${traceId}-${spanId}-01`);
});

test('read back as written', () => {
  expect(parseTraceContext(`00-${traceId}-${spanId}-01\nrojo=00f067aa0ba902b7`))
    .toEqual({ traceId, spanId, traceFlags: 1, traceState: 'rojo=00f067aa0ba902b7' });
  expect(parseTraceContext(`00-${traceId}-${spanId}-00`)).toEqual({ traceId, spanId, traceFlags: 0, traceState: '' });
});

test.each([
  [''],
  ['garbage'],
  [`01-${traceId}-${spanId}-01`],
  [`00-${traceId.toUpperCase()}-${spanId}-01`],
  [`00-${'0'.repeat(32)}-${spanId}-01`],
  [`00-${traceId}-${'0'.repeat(16)}-01`],
  [`00-${traceId}-${spanId}-1`],
])('%p is no parent', (context) => {
  expect(parseTraceContext(context)).toBeUndefined();
});
