// Bad input on a live node's port: each kind of malformed input closes that one connection with a logged,
// typed error; thousands of them leave the node up, serving a well-behaved peer, with a bounded heap.

import type * as net from 'node:net';
import { HandshakeError, MalformedFrameError } from '@casty/cluster';
import { ProtocolId } from '@casty/cluster/internal';
import type { TcpTransport } from '@casty/cluster';
import type { CapturingLogger } from '@casty/cluster/testing';
import { seededRandom } from '@casty/cluster/testing';
import { encodeFrame } from '../src/transport/frame';
import { PROTOCOL_VERSION } from '../src/transport/handshake';
import { cleanup, closed, collect, handshakeFrame, rawConnect, rawHandshake, startNode, waitUntil } from './helpers';

afterEach(cleanup);

const MAX_FRAME = 64 * 1024;

function header(length: number, protocolId?: number): Buffer {
  const h = Buffer.alloc(protocolId === undefined ? 4 : 5);
  h.writeUInt32BE(length, 0);
  if (protocolId !== undefined) h.writeUInt8(protocolId, 4);
  return h;
}

const hello = (extra: Record<string, unknown>) =>
  handshakeFrame({ t: 'hello', v: PROTOCOL_VERSION, cluster: 'test', node: 'f', host: '127.0.0.1', port: 1, nonce: 'x',
    uid: 'u', max: 1024, lane: 'data', ...extra });

/** Malformed inputs sent on a fresh connection, and the error the node must log for each. */
const beforeHandshake: Array<[string, Buffer, new (...a: never[]) => Error, string]> = [
  ['a 4 GB length field', Buffer.concat([header(0xffffffff), Buffer.alloc(100)]), MalformedFrameError, 'over the limit'],
  ['a zero length field', header(0), MalformedFrameError, 'length field is 0'],
  ['a frame over the handshake limit', header(4098, ProtocolId.HANDSHAKE), MalformedFrameError, 'over the limit'],
  ['a truncated frame', Buffer.concat([header(100, ProtocolId.HANDSHAKE), Buffer.alloc(10)]), MalformedFrameError, 'truncated'],
  ['a truncated length field', Buffer.from([0, 0]), MalformedFrameError, 'truncated'],
  ['an actor frame before the handshake', encodeFrame(ProtocolId.ACTOR, Buffer.from('hi')), HandshakeError, 'before the handshake'],
  ['an unknown protocol id before the handshake', encodeFrame(200, Buffer.from('hi')), HandshakeError, 'before the handshake'],
  ['a handshake that is not JSON', encodeFrame(ProtocolId.HANDSHAKE, Buffer.from('{nope')), HandshakeError, 'not valid JSON'],
  ['a handshake of an unknown type', handshakeFrame({ t: 'bogus' }), HandshakeError, 'invalid handshake message'],
  ['a hello of another version', hello({ v: PROTOCOL_VERSION + 1 }), HandshakeError, 'VERSION_MISMATCH'],
  ['a hello with a bad port', hello({ port: -5 }), HandshakeError, 'invalid handshake message'],
  ['an auth before hello', handshakeFrame({ t: 'auth' }), HandshakeError, 'expected hello'],
];

const afterHandshake: Array<[string, Buffer, string]> = [
  ['an unknown protocol id', encodeFrame(200, Buffer.from('hi')), 'unknown protocol id 200'],
  ['a 4 GB length field', header(0xffffffff, ProtocolId.ACTOR), 'over the limit'],
  ['a frame over maxFrameBytes', header(MAX_FRAME + 2, ProtocolId.ACTOR), 'over the limit'],
  ['a second handshake', hello({}), 'handshake frame after the handshake'],
  ['a truncated frame', Buffer.concat([header(1000, ProtocolId.ACTOR), Buffer.alloc(500)]), 'truncated'],
];

/**
 * The error of the last connection problem logged. A connection refused before its handshake is logged at debug
 * (at warn only the first of a period, then a summary line: see Admission); a failure after it at warn.
 */
function lastWarning(logger: CapturingLogger): Error | undefined {
  const reports = logger.entries.filter((e) => e.error !== undefined && (e.level === 'warn' || e.message.startsWith('Refused')));
  return reports[reports.length - 1]?.error;
}

/** The typed errors of every connection refused before its handshake, one per connection (debug level). */
function refusals(logger: CapturingLogger): Error[] {
  return logger.entries.filter((e) => e.level === 'debug' && e.message.startsWith('Refused') && e.error !== undefined)
    .map((e) => e.error as Error);
}

async function sendAndEnd(socket: net.Socket, bytes: Buffer): Promise<void> {
  socket.resume(); // read (and drop) what the node answers, so its closing the connection is seen
  socket.end(bytes);
  await closed(socket);
}

async function wellBehaved(a: TcpTransport, b: TcpTransport, atB: unknown[], atA: unknown[], round: string): Promise<void> {
  const before = [atB.length, atA.length] as const;
  for (let i = 0; i < 100; i++) a.send(b.address, ProtocolId.ACTOR, Buffer.from(`${round}-${i}`));
  await waitUntil(`b gets the well-behaved peer's ${round} frames`, () => atB.length === before[0] + 100);
  b.send(a.nodeId, ProtocolId.ACTOR, Buffer.from(round));
  await waitUntil(`a gets b's ${round} reply`, () => atA.length === before[1] + 1);
}

test('each kind of malformed input closes only that connection, with a typed, logged error', async () => {
  const { transport: b, logger } = await startNode({ nodeId: 'b', maxFrameBytes: MAX_FRAME });
  const { transport: a } = await startNode({ nodeId: 'a' });
  const atB = collect(b);
  const atA = collect(a);
  await wellBehaved(a, b, atB, atA, 'before');

  for (const [what, bytes, cls, text] of beforeHandshake) {
    await sendAndEnd(await rawConnect(b.address.port), bytes);
    await waitUntil(`b logs ${what}`, () => lastWarning(logger) instanceof cls && (lastWarning(logger)?.message.includes(text) ?? false),
      5000, () => logger.entries.slice(-2).map((e) => e.error?.message));
    logger.entries.length = 0;
  }
  let n = 0;
  for (const [what, bytes, text] of afterHandshake) {
    const socket = await rawHandshake(b.address.port, `fuzzer-${n++}`);
    await sendAndEnd(socket, bytes);
    await waitUntil(`b logs ${what} after the handshake`,
      () => lastWarning(logger) instanceof MalformedFrameError && (lastWarning(logger)?.message.includes(text) ?? false),
      5000, () => logger.entries.slice(-2).map((e) => e.error?.message));
    logger.entries.length = 0;
  }
  await wellBehaved(a, b, atB, atA, 'after');
  expect(b.stats().connectionsRefused).toBe(beforeHandshake.length);
});

test('thousands of random malformed inputs leave the node up, serving its peer, with a bounded heap', async () => {
  const { transport: b, logger } = await startNode({ nodeId: 'b', maxFrameBytes: MAX_FRAME });
  const { transport: a } = await startNode({ nodeId: 'a' });
  const atB = collect(b);
  const atA = collect(a);
  await wellBehaved(a, b, atB, atA, 'before');
  const random = seededRandom(42);
  const int = (n: number) => Math.floor(random() * n);
  const generators: Array<() => Buffer> = [
    () => Buffer.from(Array.from({ length: 1 + int(4000) }, () => int(256))),
    () => Buffer.concat([header(int(2 ** 32), int(256)), Buffer.alloc(int(200), int(256))]),
    () => Buffer.concat([header(0xffffffff), Buffer.alloc(int(100))]),
    () => encodeFrame(int(256), Buffer.alloc(int(100), int(256))).subarray(0, 1 + int(60)),
    () => Buffer.concat([hello({ v: int(5) }), encodeFrame(ProtocolId.ACTOR, Buffer.from('sneaky'))]),
  ];
  const refusedBefore = b.stats().connectionsRefused;
  const heapBefore = process.memoryUsage().heapUsed;
  const total = 1500;
  const parallel = 25;
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < total) {
      next++;
      const bytes = (generators[int(generators.length)] as () => Buffer)();
      await sendAndEnd(await rawConnect(b.address.port), bytes);
    }
  }));
  await waitUntil('b has refused every fuzzing connection', () => b.stats().connectionsRefused - refusedBefore === total,
    10_000, () => b.stats());
  const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
  // Far below what the inputs claimed (a single 4 GB length field would blow it); garbage not yet collected
  // is the only growth.
  expect(heapGrowth).toBeLessThan(64 * 1024 * 1024);
  const typed = refusals(logger).filter((e) => e instanceof MalformedFrameError || e instanceof HandshakeError);
  expect(typed.length).toBeGreaterThan(total * 0.9);
  // At warn level: the first refusal and at most a summary line per 10 s, not a line per connection.
  expect(logger.entries.filter((e) => e.level === 'warn').length).toBeLessThanOrEqual(4);
  expect(atB.every((f) => (f as { from: string }).from === 'a')).toBe(true);
  await wellBehaved(a, b, atB, atA, 'after');
  expect(b.stats().connectionsAccepted).toBe(1);
});
