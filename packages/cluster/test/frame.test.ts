// Framing and backoff as pure functions: reassembly from arbitrary chunking, limits checked from the length
// field before allocation, and the backoff curve.

import { MalformedFrameError } from '@casty/cluster';
import { encodeFrame, FrameDecoder, ProtocolId } from '@casty/cluster/internal';
import { seededRandom } from '@casty/cluster/testing';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import * as net from 'node:net';
import { FrameSocket } from '../src/internal/FrameSocket';
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

test('a frame trickling in as tiny chunks holds about its bytes, not an object per chunk', () => {
  // A peer that sends one byte per TCP segment gets one socket read (one Buffer of its own) per byte; kept as a
  // list, each byte would cost ~100 bytes of objects, so a 16 MiB frame could pin gigabytes.
  const gc: () => void = typeof global.gc === 'function' ? global.gc : (() => {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  })();
  const held = () => {
    gc();
    gc();
    const { heapUsed, arrayBuffers } = process.memoryUsage();
    return heapUsed + arrayBuffers;
  };
  const payload = Buffer.alloc(300_000);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 255;
  const frame = encodeFrame(ProtocolId.ACTOR, payload);
  const decoder = new FrameDecoder('test', 1 << 20);
  const before = held();
  // Like socket reads: each chunk its own allocation (not a view into a shared pool).
  const chunk = (from: number, to: number) => {
    const own = Buffer.allocUnsafeSlow(to - from);
    frame.copy(own, 0, from, to);
    return own;
  };
  for (let i = 0; i < frame.length - 1; i++) decoder.push(chunk(i, i + 1));
  expect(decoder.next()).toBeUndefined();
  const growth = held() - before;
  // 300 KB arrived; a list of 300,000 one-byte Buffers would hold tens of MB.
  expect(growth).toBeLessThan(2 * frame.length);
  decoder.push(chunk(frame.length - 1, frame.length));
  const decoded = decoder.next();
  expect(decoded?.protocolId).toBe(ProtocolId.ACTOR);
  expect(Buffer.compare(decoded?.payload ?? Buffer.alloc(0), payload)).toBe(0);
  expect(decoder.bufferedBytes).toBe(0);
});

test('frames returned as views are never overwritten by bytes that arrive later', () => {
  const payloads = Array.from({ length: 50 }, (_, i) => Buffer.alloc(10 + i * 37, i + 1));
  const stream = Buffer.concat(payloads.map((p) => encodeFrame(ProtocolId.ACTOR, p)));
  const decoder = new FrameDecoder('test', 1 << 20);
  const views: Buffer[] = [];
  for (let i = 0; i < stream.length; i += 5) {
    decoder.push(Buffer.from(stream.subarray(i, i + 5)));
    for (let f = decoder.next(); f !== undefined; f = decoder.next()) views.push(f.payload);
  }
  expect(views).toEqual(payloads);
});

test('a large frame across chunks is lent in a buffer used again once released; one lent already, the next gets its own', () => {
  const big = (fill: number) => encodeFrame(ProtocolId.ACTOR, Buffer.alloc(300 * 1024, fill));
  const decoder = new FrameDecoder('test', 1 << 24);
  const feed = (frame: Buffer) => {
    for (let i = 0; i < frame.length; i += 64 * 1024) decoder.push(Buffer.from(frame.subarray(i, i + 64 * 1024)));
  };
  feed(big(1));
  const first = decoder.next()!;
  expect(first.borrowed).toBe(true);
  expect(first.payload.every((b) => b === 1)).toBe(true);
  feed(big(2));
  const second = decoder.next()!; // the first is still lent: this one is a copy of its own
  expect(second.borrowed).toBe(false);
  expect(second.payload.buffer).not.toBe(first.payload.buffer);
  decoder.release();
  feed(big(3));
  const third = decoder.next()!;
  expect(third.borrowed).toBe(true);
  expect(third.payload.buffer).toBe(first.payload.buffer); // the released buffer, used again
  expect(third.payload.every((b) => b === 3)).toBe(true);
  expect(second.payload.every((b) => b === 2)).toBe(true);
  // small frames, and frames within one chunk, are views as before: never lent
  decoder.release();
  decoder.push(encodeFrame(ProtocolId.ACTOR, Buffer.alloc(100 * 1024, 4)));
  expect(decoder.next()!.borrowed).toBeFalsy();
  // a connection that fails while a frame is lent does not give that buffer back (a handler may still read it)
  feed(big(5));
  const fifth = decoder.next()!;
  decoder.clear();
  feed(big(6));
  const sixth = decoder.next()!;
  expect(sixth.borrowed).toBe(true);
  expect(sixth.payload.buffer).not.toBe(fifth.payload.buffer);
  expect(fifth.payload.every((b) => b === 5)).toBe(true);
  decoder.release();
});

test('a handler that holds its socket leaves the frames after it in the decoder, handed over on resume', async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const raw = await accepted;
  try {
    const got: number[] = [];
    let arrived: (() => void) | undefined;
    let socket: FrameSocket | undefined;
    socket = new FrameSocket(raw, 'test', 1 << 20, {
      onFrame: (frame) => {
        got.push(frame.payload[0]!);
        if (got.length === 1) socket!.hold(); // as the handshake's last frame does
        arrived?.();
      },
      onClose: () => undefined,
    }, { socketWrites: 0, bytesWritten: 0, bytesRead: 0 });
    /** Resolves at the frame after this call (or after 2 s: the expectation below then says what came). */
    const nextFrame = () => new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2_000);
      arrived = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    // three frames in one write: they arrive in one chunk, handed over in one drain
    const first = nextFrame();
    client.write(Buffer.concat([1, 2, 3].map((n) => encodeFrame(ProtocolId.ACTOR, Buffer.from([n])))));
    await first;
    expect(got).toEqual([1]); // frames 2 and 3 came in the same chunk: the drain stopped at the hold
    socket.resume(); // hands frames 2 and 3 over in this call
    expect(got).toEqual([1, 2, 3]); // before, the frame after the hold was taken and lost
  } finally {
    client.destroy();
    raw.destroy();
    server.close();
  }
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
