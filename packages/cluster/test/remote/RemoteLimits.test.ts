// Limits of remote asks, over the in-memory network and real TCP on 127.0.0.1 port 0:
// - a timeout over 2^31 - 1 ms (what one Node timer takes) is an InvalidArgumentError at the call, and the
//   longest allowed one arms no Node timer past the limit on either node (Node would run it after 1 ms, and a
//   pending ask re-armed it about 800 times a second);
// - a reply too large for a frame fails the ask at once with the reason (its size and the limit), not with
//   AskTimeoutError after the whole timeout, and the ref keeps working.

import { Codec, InvalidArgumentError, message, MessageEncodingError, Request, SystemClock } from '@casty/core';
import type { Context } from '@casty/core';
import { Actor } from '@casty/core';
import { MAX_TIMER_DELAY_MS } from '@casty/core/internal';
import { FrameTooLargeError } from '@casty/cluster';
import { EnvelopeKind, ProtocolId } from '@casty/cluster/internal';
import { waitUntil } from '@casty/cluster/testing';
import { encodeHeader, MAX_U32 } from '../../src/remote/envelope';
import { Echo, Ignore, Service } from './actors';
import { converged, TestNodes } from './nodes';
import type { TestNode } from './nodes';

@message('test.limits.Make') class Make extends Request<string> { constructor(readonly length: number) { super(); } }

/** Replies to Make with a string of the length asked for. */
class Maker extends Actor<Make | Echo> {
  override receive(msg: Make | Echo, ctx: Context<Make | Echo>): void {
    ctx.reply(msg instanceof Make ? 'x'.repeat(msg.length) : msg.value);
  }
}

const MAX_FRAME_BYTES = 64 * 1024;
const REPLY_HEADER_BYTES = 5; // kind, u32 ask id

/** The length of a string whose encoding is `bytes` long. */
function stringEncodingTo(bytes: number): number {
  const codec = new Codec();
  for (let length = bytes; length > 0; length--) {
    if (codec.encode('x'.repeat(length)).length === bytes) return length;
  }
  throw new Error(`no string encodes to ${bytes} bytes`);
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(() => { throw new Error('the ask succeeded'); }, (e: unknown) => e as Error);
}

/** Records the delay of every timer SystemClock arms (both nodes run on it). */
function recordClockDelays(): { delays: number[]; restore: () => void } {
  const delays: number[] = [];
  const spy = jest.spyOn(SystemClock.instance, 'setTimeout').mockImplementation(function (this: SystemClock, fn, delay) {
    delays.push(delay);
    return SystemClock.prototype.setTimeout.call(this, fn, delay);
  });
  return { delays, restore: () => spy.mockRestore() };
}

describe.each(['in-memory', 'tcp'] as const)('remote ask limits over %s', (kind) => {
  let nodes: TestNodes;
  beforeEach(() => {
    nodes = new TestNodes(kind);
  });
  afterEach(() => nodes.shutdown());

  test('a remote ask timeout over 2^31 - 1 ms is an InvalidArgumentError at the call naming the limit', async () => {
    const [a, b] = await nodes.cluster('a', 'b');
    await a.system.spawn(Service, { name: 'service' });
    const service = await b.system.lookup<Echo<number>>('service');
    const error = await failure(service!.ask(new Echo(1), { timeout: 2 ** 31 }));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toMatch(/^ask\(casty:\/\/a@.*\/user\/service\): timeout must be .* at most 2147483647 .*got 2147483648$/);
    expect(b.system.remote.pendingRequests).toBe(0);
    expect(await service!.ask(new Echo(2), { timeout: MAX_TIMER_DELAY_MS })).toBe(2);
  });

  test('asks with the longest timeout, and an ASK frame claiming 2^32 - 1 ms, arm no Node timer past the limit on either node', async () => {
    const [a, b] = await nodes.cluster('a', 'b');
    await a.system.spawn(Service, { name: 'service' });
    const service = await b.system.lookup<Echo<number> | Ignore>('service');
    const clock = recordClockDelays();
    try {
      expect(await service!.ask(new Echo(3), { timeout: MAX_TIMER_DELAY_MS })).toBe(3);
      const unanswered = service!.ask(new Ignore(), { timeout: MAX_TIMER_DELAY_MS }).catch((e: unknown) => e);
      // What another (older, or hostile) node may send: the u32 header's largest timeout.
      const body = new Codec().encode(new Ignore());
      b.transport.send(a.system.address, ProtocolId.ACTOR,
        Buffer.concat([encodeHeader([EnvelopeKind.ASK, 4_000_000_000, '/user/service', MAX_U32]), body]));
      await waitUntil('a holds both unanswered asks', () => a.system.pendingAsks === 2, 5_000, () => a.system.pendingAsks);
      expect(b.system.remote.pendingRequests).toBe(1);
      expect(clock.delays.length).toBeGreaterThan(0);
      expect(clock.delays.filter((d) => d > MAX_TIMER_DELAY_MS)).toEqual([]);
      await b.system.shutdown();
      await unanswered;
    } finally {
      clock.restore();
    }
  });

  async function twoNodesWithSmallFrames(): Promise<[TestNode, TestNode]> {
    const config = { maxFrameBytes: MAX_FRAME_BYTES };
    const a = await nodes.start('a', { config });
    const b = await nodes.start('b', { config, seeds: [a.system.address] });
    await converged([a, b]);
    return [a, b];
  }

  test('a reply whose frame is just over maxFrameBytes fails the ask at once with FrameTooLargeError naming its size and the limit', async () => {
    const [a, b] = await twoNodesWithSmallFrames();
    await a.system.spawn(Maker, { name: 'maker' });
    const maker = await b.system.lookup<Make | Echo<string>>('maker');
    // The body fits the codec's limit (maxFrameBytes) but not the frame: header + body = maxFrameBytes + 3.
    const length = stringEncodingTo(MAX_FRAME_BYTES - 2);
    const frameBytes = MAX_FRAME_BYTES - 2 + REPLY_HEADER_BYTES;
    const started = performance.now();
    const error = await failure(maker!.ask(new Make(length), { timeout: 20_000 }));
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(FrameTooLargeError);
    expect(error.message).toBe(`The reply to Make from /user/maker could not be sent to the asking node: ` +
      `Payload of ${frameBytes} bytes exceeds maxFrameBytes ${MAX_FRAME_BYTES}; split it into smaller messages or ` +
      `raise maxFrameBytes on every node`);
    expect(error).toMatchObject({ payloadBytes: frameBytes, maxFrameBytes: MAX_FRAME_BYTES });
    expect(b.system.remote.pendingRequests).toBe(0);
    // The connection and the ref still work.
    expect(await maker!.ask(new Echo('after'))).toBe('after');
    expect((await maker!.ask(new Make(length - 10))).length).toBe(length - 10);
  });

  test("a reply over the codec's limit fails the ask at once with MessageEncodingError naming its size and the limit", async () => {
    const [a, b] = await twoNodesWithSmallFrames();
    await a.system.spawn(Maker, { name: 'maker' });
    const maker = await b.system.lookup<Make | Echo<string>>('maker');
    const started = performance.now();
    const error = await failure(maker!.ask(new Make(MAX_FRAME_BYTES + 100), { timeout: 20_000 }));
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(MessageEncodingError);
    const bytes = new Codec().encode('x'.repeat(MAX_FRAME_BYTES + 100)).length;
    expect(error.message).toBe(`The reply to Make from /user/maker could not be sent to the asking node: Message string ` +
      `encodes to ${bytes} bytes, more than maxBytes (${MAX_FRAME_BYTES}); send it in smaller parts or raise maxBytes on every node`);
    expect(await maker!.ask(new Echo('after'))).toBe('after');
  });
});
