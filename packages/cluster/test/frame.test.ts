// Framing and backoff as pure functions: reassembly from arbitrary chunking, limits checked from the length
// field before allocation, and the backoff curve.

import { encodeFrame, FrameDecoder, MalformedFrameError, ProtocolId } from '@casty/cluster';
import { seededRandom } from '@casty/cluster/testing';
import { backoffDelay } from '../src/internal/backoff';

test('the decoder reassembles frames from any chunking, byte by byte included', () => {
  const random = seededRandom(3);
  const payloads = Array.from({ length: 200 }, (_, i) => Buffer.alloc(Math.floor(random() * 300), i));
  const stream = Buffer.concat(payloads.map((p) => encodeFrame(ProtocolId.ACTOR, p)));
  for (const chunkSize of [1, 3, 7, 64, 4096, stream.length]) {
    const decoder = new FrameDecoder('test', 1000);
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i += chunkSize) {
      decoder.push(stream.subarray(i, i + chunkSize));
      for (let f = decoder.next(); f !== undefined; f = decoder.next()) {
        expect(f.protocolId).toBe(ProtocolId.ACTOR);
        out.push(Buffer.from(f.payload));
      }
    }
    expect(out).toEqual(payloads);
    expect(decoder.bufferedBytes).toBe(0);
  }
});

test('a length field over the limit throws as soon as its 4 bytes are in, before anything is allocated', () => {
  const decoder = new FrameDecoder('peer-x', 1024);
  decoder.push(Buffer.from([0xff, 0xff]));
  expect(decoder.next()).toBeUndefined();
  decoder.push(Buffer.from([0xff, 0xff]));
  expect(() => decoder.next()).toThrow(MalformedFrameError);
  expect(() => decoder.next()).toThrow(/peer-x.*4294967294 payload bytes, over the limit of 1024/);
  const zero = new FrameDecoder('peer-y', 1024);
  zero.push(Buffer.alloc(4));
  expect(() => zero.next()).toThrow(/length field is 0/);
});

test('an incomplete frame keeps no more than the frame itself buffered', () => {
  const decoder = new FrameDecoder('test', 1000);
  const frame = encodeFrame(ProtocolId.ACTOR, Buffer.alloc(1000, 1));
  decoder.push(frame.subarray(0, 600));
  expect(decoder.next()).toBeUndefined();
  expect(decoder.bufferedBytes).toBe(600);
  decoder.push(frame.subarray(600));
  expect(decoder.next()?.payload.length).toBe(1000);
  const over = new FrameDecoder('test', 999);
  over.push(frame.subarray(0, 10));
  expect(() => over.next()).toThrow(/over the limit of 999/);
});

test('backoff grows by the multiplier up to the cap, and jitter only shortens it', () => {
  const config = { initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2, jitter: 0.5 };
  expect([0, 1, 2, 3, 4, 10, 5000].map((n) => backoffDelay(n, config, () => 0))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  expect(backoffDelay(0, config, () => 0.999999)).toBe(50);
  const random = seededRandom(9);
  for (let n = 0; n < 100; n++) {
    const d = backoffDelay(n % 8, config, random);
    expect(d).toBeGreaterThanOrEqual(Math.min(1000, 100 * 2 ** (n % 8)) / 2);
    expect(d).toBeLessThanOrEqual(Math.min(1000, 100 * 2 ** (n % 8)));
  }
});
