// The envelope reader is strict about kinds that carry no body: garbled bytes that happen to start with the byte
// of a command (LEAVING makes the receiver drop its connections to the sender) are malformed, not that command.

import { Codec, InvalidArgumentError, MalformedMessageError } from '@casty/core';
import { encodeEnvelope, EnvelopeKind, EnvelopeReader, KeyedHeader, NO_BODY } from '../../src/remote/envelope';

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

  describe('keyed envelopes (a sharded entity\'s routing fields in the header)', () => {
    const origin = 2 ** 53 - 7;
    test('KEYED_TELL and KEYED_ASK carry key, shard, origin and seq exactly, up to 2^53 - 1', () => {
      reader.read(encodeEnvelope(codec, [EnvelopeKind.KEYED_TELL, '/system/sharding-x', 'alice', 4095, origin, 2 ** 40 + 3], 'hi'));
      expect([reader.kind, reader.path, reader.key, reader.shard, reader.origin, reader.seq])
        .toEqual([EnvelopeKind.KEYED_TELL, '/system/sharding-x', 'alice', 4095, origin, 2 ** 40 + 3]);
      expect(codec.decode(reader.body)).toBe('hi');
      reader.read(encodeEnvelope(codec, [EnvelopeKind.KEYED_ASK, 9, '/system/sharding-x', 2500, 'ünïcode', 0, 1, 7], 42));
      expect([reader.kind, reader.id, reader.timeoutMs, reader.path, reader.key, reader.shard, reader.origin, reader.seq])
        .toEqual([EnvelopeKind.KEYED_ASK, 9, 2500, '/system/sharding-x', 'ünïcode', 0, 1, 7]);
      expect(codec.decode(reader.body)).toBe(42);
    });

    test('one header is made per key and sent with each message number written in place', () => {
      const header = new KeyedHeader(EnvelopeKind.KEYED_TELL, '/system/sharding-x', 'bob', 3, origin);
      const keys: unknown[] = [];
      for (const seq of [1, 2, 2 ** 32 + 1]) {
        reader.read(Buffer.concat([header.withSeq(seq), codec.encode(seq)]));
        keys.push([reader.key, reader.seq, codec.decode(reader.body)]);
      }
      // the same key again comes back as the same string (the reader keeps the last one)
      expect(keys).toEqual([['bob', 1, 1], ['bob', 2, 2], ['bob', 2 ** 32 + 1, 2 ** 32 + 1]]);
      reader.read(Buffer.concat([new KeyedHeader(EnvelopeKind.KEYED_TELL, '/system/sharding-x', 'bot', 3, origin).withSeq(1),
        codec.encode(0)]));
      expect(reader.key).toBe('bot');
    });

    test('what a sender cannot put in a keyed header is refused at the call, naming it', () => {
      expect(() => new KeyedHeader(EnvelopeKind.KEYED_TELL, '/p', 'k'.repeat(70_000), 0, 1)).toThrow(/70000 bytes.*shorter entity id/);
      expect(() => new KeyedHeader(EnvelopeKind.KEYED_TELL, '/p', 'k', -1, 1)).toThrow(InvalidArgumentError);
      expect(() => new KeyedHeader(EnvelopeKind.KEYED_TELL, '/p', 'k', 0, 2 ** 53)).toThrow(/origin from 0 to 2\^53 - 1/);
      expect(() => new KeyedHeader(EnvelopeKind.KEYED_TELL, '/p', 'k', 0, 1).withSeq(2 ** 53)).toThrow(/seq must be 0 to 2\^53 - 1/);
    });

    test('a keyed header that is cut short, or claims numbers no node sends, is malformed', () => {
      const whole = encodeEnvelope(codec, [EnvelopeKind.KEYED_TELL, '/system/sharding-x', 'alice', 1, 2, 3], NO_BODY);
      expect(() => reader.read(whole.subarray(0, 10))).toThrow(/ends inside its header/);
      expect(() => reader.read(whole.subarray(0, whole.length - 2))).toThrow(/ends inside its key/);
      const huge = Buffer.from(whole);
      huge.writeUInt32BE(0xffff_ffff, 5); // origin's high word: over 2^53
      expect(() => reader.read(huge)).toThrow(MalformedMessageError);
    });
  });
});
