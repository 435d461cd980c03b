// The envelope reader is strict about kinds that carry no body: garbled bytes that happen to start with the byte
// of a command (LEAVING makes the receiver drop its connections to the sender) are malformed, not that command.

import { Codec, MalformedMessageError } from '@casty/core';
import { encodeEnvelope, EnvelopeKind, EnvelopeReader, NO_BODY } from '../../src/remote/envelope';

describe('EnvelopeReader', () => {
  const codec = new Codec();
  const reader = new EnvelopeReader();

  test.each([
    ['LEAVING', [EnvelopeKind.LEAVING] as const],
    ['WATCH', [EnvelopeKind.WATCH, '/user/a'] as const],
    ['UNWATCH', [EnvelopeKind.UNWATCH, '/user/a'] as const],
    ['TERMINATED', [EnvelopeKind.TERMINATED, '/user/a'] as const],
    ['LOOKUP', [EnvelopeKind.LOOKUP, 7, 'a'] as const],
  ])('a %s envelope is its header alone; with bytes after it, it is malformed', (_name, header) => {
    const exact = encodeEnvelope(codec, header, NO_BODY);
    reader.read(exact);
    expect(reader.kind).toBe(header[0]);
    expect(() => reader.read(Buffer.concat([exact, Buffer.from([1, 2, 3])]))).toThrow(MalformedMessageError);
    expect(() => reader.read(Buffer.concat([exact, Buffer.from([1, 2, 3])]))).toThrow(/3 bytes after its header/);
  });

  test('kinds with a body still read theirs', () => {
    reader.read(encodeEnvelope(codec, [EnvelopeKind.TELL, '/user/a'], 'hello'));
    expect(codec.decode(reader.body)).toBe('hello');
  });

  test('ASK_TRACED carries the ask and its trace context; the plain ASK is as it was', () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const context = `${traceparent}\ncongo=t61rcWkgMzE`;
    reader.read(encodeEnvelope(codec, [EnvelopeKind.ASK_TRACED, 42, '/user/é', 1500, context], 'hello'));
    expect([reader.kind, reader.id, reader.path, reader.timeoutMs, reader.traceContext])
      .toEqual([EnvelopeKind.ASK_TRACED, 42, '/user/é', 1500, context]);
    expect(codec.decode(reader.body)).toBe('hello');
    // The untraced ASK: kind, u32 id, u32 timeout, u16 path length, path, then the body; no trace bytes.
    const plain = encodeEnvelope(codec, [EnvelopeKind.ASK, 42, '/user/a', 1500], NO_BODY);
    expect([...plain]).toEqual([1, 0, 0, 0, 42, 0, 0, 0x05, 0xdc, 0, 7, ...Buffer.from('/user/a')]);
  });

  test('an ASK_TRACED cut inside its trace context is malformed', () => {
    const whole = encodeEnvelope(codec, [EnvelopeKind.ASK_TRACED, 1, '/user/a', 10, '00-ab'], NO_BODY);
    expect(() => reader.read(whole.subarray(0, whole.length - 2))).toThrow(/ends inside its trace context/);
  });
});
