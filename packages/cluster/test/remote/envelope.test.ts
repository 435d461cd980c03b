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
});
