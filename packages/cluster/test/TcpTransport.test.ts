// TcpTransport over real sockets on 127.0.0.1: exchange and ordering, batching, peer events, reconnect after
// a restart on the same port, backpressure, handshake refusals and timeouts (the latter on a ManualClock).

import type * as net from 'node:net';
import { HandshakeError, TcpTransport, TransportBackpressureError, TransportBindError, UnknownPeerError } from '@casty/cluster';
import { ProtocolId } from '@casty/cluster/internal';
import type { PeerInfo } from '@casty/cluster/internal';
import { ManualClock } from '@casty/core/testing';
import { encodeFrame } from '../src/transport/frame';
import { PROTOCOL_VERSION, ServerHandshake, decodeHandshake } from '../src/transport/handshake';
import { FrameDecoder } from '../src/transport/frame';
import { pooledChunks } from '../src/transport/PeerConnection';
import { seededRandom } from '@casty/cluster/testing';
import { cleanup, closed, collect, handshakeFrame, rawConnect, rawServer, RawReader, stalledPeer, startNode, waitUntil } from './helpers';

afterEach(cleanup);

const text = (s: string) => Buffer.from(s);

test('two transports exchange frames both ways, in order, over 10k frames', async () => {
  const { transport: a } = await startNode({ nodeId: 'a' });
  const { transport: b } = await startNode({ nodeId: 'b' });
  const atA = collect(a);
  const atB = collect(b);
  const count = 10_000;
  for (let i = 0; i < count; i++) a.send(b.address, ProtocolId.ACTOR, text(`a${i}`));
  await waitUntil('b has every frame from a', () => atB.length === count, 10_000, () => atB.length);
  // b learned a's listening address in the handshake, so it can answer by node id.
  for (let i = 0; i < count; i++) b.send('a', ProtocolId.ACTOR, text(`b${i}`));
  await waitUntil('a has every reply from b', () => atA.length === count, 10_000, () => atA.length);
  expect(atB.map((f) => f.text)).toEqual(Array.from({ length: count }, (_, i) => `a${i}`));
  expect(atA.map((f) => f.text)).toEqual(Array.from({ length: count }, (_, i) => `b${i}`));
  expect(new Set([...atB.map((f) => f.from)])).toEqual(new Set(['a']));
  expect(new Set([...atA.map((f) => f.from)])).toEqual(new Set(['b']));
});

test('frames sent in one tick go out in one socket write', async () => {
  const { transport: a } = await startNode({ nodeId: 'a' });
  const { transport: b } = await startNode({ nodeId: 'b' });
  const atB = collect(b);
  a.send(b.address, ProtocolId.ACTOR, text('warm-up'));
  await waitUntil('the connection is open and idle', () => atB.length === 1);
  const before = a.stats();
  const count = 5000;
  const payload = text('12345678');
  for (let i = 0; i < count; i++) a.send(b.address, ProtocolId.ACTOR, payload);
  await waitUntil('b has the burst', () => atB.length === 1 + count, 10_000, () => atB.length);
  const after = a.stats();
  expect(after.bytesWritten - before.bytesWritten).toBe(count * (5 + payload.length));
  expect(after.socketWrites - before.socketWrites).toBe(1);
});

test('sending to its own id or address delivers locally, asynchronously', async () => {
  const { transport: a } = await startNode({ nodeId: 'a' });
  const atA = collect(a);
  a.send('a', ProtocolId.ACTOR, text('1'));
  a.send(a.address, ProtocolId.ACTOR, text('2'));
  expect(atA).toEqual([]);
  await waitUntil('both local frames arrive', () => atA.length === 2);
  expect(atA).toEqual([{ from: 'a', text: '1' }, { from: 'a', text: '2' }]);
  expect(() => a.send('nobody', ProtocolId.ACTOR, text('x'))).toThrow(UnknownPeerError);
});

test('a peer that dies raises peer-down; restarted on the same port it is reconnected and traffic resumes', async () => {
  const reconnect = { initialDelayMs: 20, maxDelayMs: 200 };
  const { transport: a, logger: aLog } = await startNode({ nodeId: 'a', reconnect });
  const { transport: b } = await startNode({ nodeId: 'b', reconnect });
  const port = b.address.port;
  const ups: PeerInfo[] = [];
  const downs: Array<{ peer: PeerInfo; reason: Error }> = [];
  a.onPeerUp((p) => ups.push(p));
  a.onPeerDown((peer, reason) => downs.push({ peer, reason }));
  a.connect(b.address);
  const atB = collect(b);
  a.send(b.address, ProtocolId.ACTOR, text('before'));
  await waitUntil('b got the first frame', () => atB.length === 1);
  b.send('a', ProtocolId.ACTOR, text('ping'));
  await waitUntil('a has both connections with b', () => ups.length === 2, 5000, () => ups);
  expect(ups.map((p) => `${p.nodeId}/${p.direction}`).sort()).toEqual(['b/inbound', 'b/outbound']);

  await b.close();
  await waitUntil('a sees both connections with b go down', () => downs.length === 2, 5000, () => downs);
  expect(downs.map((d) => `${d.peer.nodeId}/${d.peer.direction}`).sort()).toEqual(['b/inbound', 'b/outbound']);
  // Sent while b is down: kept in the queue and delivered once b is back.
  a.send(b.address, ProtocolId.ACTOR, text('while-down'));
  await waitUntil('a has retried (and failed) to reconnect while b is down',
    () => aLog.entries.some((e) => e.message.includes('retrying')), 5000, () => aLog.entries);

  const { transport: b2 } = await startNode({ nodeId: 'b', port, reconnect });
  const atB2 = collect(b2);
  await waitUntil('a reconnects to the restarted b', () => ups.length === 3, 10_000, () => a.peerStatus(b2.address));
  a.send(b2.address, ProtocolId.ACTOR, text('after'));
  await waitUntil('the restarted b gets the queued and the new frame', () => atB2.length === 2, 5000, () => atB2);
  expect(atB2.map((f) => f.text)).toEqual(['while-down', 'after']);
});

test('disconnect closes the outbound connection and stops reconnecting', async () => {
  const { transport: a } = await startNode({ nodeId: 'a' });
  const { transport: b } = await startNode({ nodeId: 'b' });
  const downs: PeerInfo[] = [];
  b.onPeerDown((p) => downs.push(p));
  const atB = collect(b);
  a.connect(b.address);
  a.send(b.address, ProtocolId.ACTOR, text('x'));
  await waitUntil('b got the frame', () => atB.length === 1);
  a.disconnect('b');
  await waitUntil('b sees the inbound connection go down', () => downs.length === 1);
  expect(a.peerStatus(b.address)).toBeUndefined();
});

test('after disconnect, a send to the same address object dials a new connection', async () => {
  const { transport: a } = await startNode({ nodeId: 'a' });
  const { transport: b } = await startNode({ nodeId: 'b' });
  const atB = collect(b);
  const ups: PeerInfo[] = [];
  b.onPeerUp((p) => ups.push(p));
  const to = b.address; // one object throughout, as a remote ref holds it
  a.send(to, ProtocolId.ACTOR, text('before'));
  await waitUntil('b got the first frame', () => atB.length === 1);
  a.disconnect(to);
  a.send(to, ProtocolId.ACTOR, text('after'));
  await waitUntil('b got the frame sent after disconnect', () => atB.length === 2);
  expect(atB.map((f) => f.text)).toEqual(['before', 'after']);
  expect(ups).toHaveLength(2);
});

test('sendParts sends head and body as one frame, batched like send; locally too; size checked on the whole', async () => {
  const { transport: a } = await startNode({ nodeId: 'a', maxFrameBytes: 1024 });
  const { transport: b } = await startNode({ nodeId: 'b' });
  const atA = collect(a);
  const atB = collect(b);
  a.send(b.address, ProtocolId.ACTOR, text('warm-up'));
  await waitUntil('the connection is open and idle', () => atB.length === 1);
  a.send('b', ProtocolId.ACTOR, text('warm-up by id')); // a second connection: bound to node 'b'
  await waitUntil('the bound connection is open and idle', () => atB.length === 2);
  const before = a.stats();
  for (let i = 0; i < 100; i++) a.sendParts(b.address, ProtocolId.ACTOR, text(`head${i}|`), text(`body${i}`));
  a.sendParts('b', ProtocolId.ACTOR, text('by id|'), new Uint8Array(0));
  a.sendParts('a', ProtocolId.ACTOR, text('self|'), text('body'));
  await waitUntil('b has every frame', () => atB.length === 103);
  await waitUntil('a has its own frame', () => atA.length === 1);
  expect(atB.slice(2).filter((f) => f.text !== 'by id|').map((f) => f.text))
    .toEqual(Array.from({ length: 100 }, (_, i) => `head${i}|body${i}`));
  expect(atB.slice(2).filter((f) => f.text === 'by id|')).toHaveLength(1);
  expect(atA).toEqual([{ from: 'a', text: 'self|body' }]);
  // One write per connection: the frames to b's address, and the one to node 'b' (a connection bound to its id).
  expect(a.stats().socketWrites - before.socketWrites).toBe(2);
  expect(() => a.sendParts(b.address, ProtocolId.ACTOR, Buffer.alloc(600), Buffer.alloc(600))).toThrow(/1200.*1024|1024.*1200/);
});

test('a peer closing cleanly is logged at debug; only a failure is a warning', async () => {
  const { transport: a, logger } = await startNode({ nodeId: 'a' });
  const { transport: b } = await startNode({ nodeId: 'b' });
  const downs: PeerInfo[] = [];
  a.onPeerDown((p) => downs.push(p));
  const atB = collect(b);
  a.send(b.address, ProtocolId.ACTOR, text('x'));
  await waitUntil('b got the frame', () => atB.length === 1);
  await b.close();
  await waitUntil('a sees its connection to b go down', () => downs.length === 1);
  const lost = logger.entries.filter((e) => e.message.includes('lost'));
  expect(lost.length).toBeGreaterThan(0);
  expect(lost.every((e) => e.level === 'debug')).toBe(true);
});


test('open makes a lane\'s connection before any frame, and the first frame goes over it', async () => {
  const { transport: a } = await startNode({ nodeId: 'a' });
  const { transport: b } = await startNode({ nodeId: 'b' });
  const ups: PeerInfo[] = [];
  b.onPeerUp((p) => ups.push(p));
  const to = { nodeId: 'b', address: b.address };
  expect(a.peerStatus(b.address, 'control', 'b')).toBeUndefined();
  a.open(to, 'control');
  a.open(to, 'control'); // once is enough: no second connection
  await waitUntil('b accepted a control connection from a', () => ups.some((p) => p.lane === 'control'), 5_000, () => ups);
  // b announces the peer when a's hello arrives; a is open once b's answer reaches it, a moment later
  await waitUntil('a\'s control connection to b is open', () => a.peerStatus(b.address, 'control', 'b')?.state === 'open',
    5_000, () => a.peerStatus(b.address, 'control', 'b'));
  expect(a.peerStatus(b.address, 'data', 'b')).toBeUndefined(); // the other lane is left alone
  const atB = collect(b, ProtocolId.SWIM);
  a.send(to, ProtocolId.SWIM, text('ping'));
  await waitUntil('b got the frame', () => atB.length === 1);
  expect(ups.filter((p) => p.lane === 'control')).toHaveLength(1);
  expect(a.stats().framesSent).toBe(1);
});

test('large frames reach a borrowing handler in a reused buffer, and any other handler as copies of its own', async () => {
  const { transport: a } = await startNode({ nodeId: 'a' });
  const { transport: b } = await startNode({ nodeId: 'b' });
  const lent: Array<{ buffer: ArrayBufferLike; fill: number; whole: boolean }> = [];
  b.onFrame(ProtocolId.ACTOR, (_from, payload) => {
    lent.push({ buffer: payload.buffer, fill: payload[0]!, whole: payload.every((x) => x === payload[0]) });
  }, { borrows: true });
  const kept: Uint8Array[] = [];
  b.onFrame(ProtocolId.GOSSIP, (_from, payload) => kept.push(payload));
  expect(() => b.onFrame(ProtocolId.SWIM, () => undefined, { borrows: 'yes' } as never)).toThrow(/borrows\?: boolean/);
  const to = { nodeId: 'b', address: b.address };
  for (let i = 1; i <= 8; i++) {
    a.send(to, ProtocolId.ACTOR, Buffer.alloc(1024 * 1024, i));
    a.send(to, ProtocolId.GOSSIP, Buffer.alloc(1024 * 1024, 100 + i));
  }
  await waitUntil('b got 16 frames', () => lent.length === 8 && kept.length === 8, 10_000, () => ({ lent: lent.length, kept: kept.length }));
  expect(lent.map((l) => [l.fill, l.whole])).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((i) => [i, true]));
  // frames of 1 MiB span the socket's chunks: the borrower read most of them from a buffer it had seen before
  expect(new Set(lent.map((l) => l.buffer)).size).toBeLessThan(8);
  // the others' payloads stay theirs, whatever came after them
  expect(kept.map((p) => [p[0], p.every((x) => x === p[0]), p.length])).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((i) => [100 + i, true, 1024 * 1024]));
});

test('outbound chunks used again once written carry every frame intact (random sizes, waves of 8 MiB)', async () => {
  const { transport: a } = await startNode({ nodeId: 'a' });
  const { transport: b } = await startNode({ nodeId: 'b' });
  const random = seededRandom(7);
  const byteOf = (seq: number, i: number) => (seq * 31 + i * 7) & 0xff;
  let received = 0;
  const bad: number[] = [];
  b.onFrame(ProtocolId.ACTOR, (_from, payload) => {
    const seq = new DataView(payload.buffer, payload.byteOffset).getUint32(0);
    if (seq !== received) bad.push(seq);
    for (let i = 4; i < payload.length; i += 997) if (payload[i] !== byteOf(seq, i)) { bad.push(seq); break; }
    received++;
  }, { borrows: true });
  const to = { nodeId: 'b', address: b.address };
  let sent = 0;
  let pooledSeen = 0;
  for (let wave = 0; wave < 6; wave++) {
    for (let bytes = 0; bytes < 8 * 1024 * 1024;) {
      const size = random() < 0.2 ? 4 + Math.floor(random() * 1_500_000) : 4 + Math.floor(random() * 4_000);
      const payload = Buffer.allocUnsafe(size);
      payload.writeUInt32BE(sent, 0);
      for (let i = 4; i < size; i++) payload[i] = byteOf(sent, i);
      a.send(to, ProtocolId.ACTOR, payload);
      payload.fill(0); // the transport copied it: what the caller does after send changes nothing
      sent++;
      bytes += size;
      if (random() < 0.05) await new Promise((resolve) => setImmediate(resolve));
    }
    await waitUntil(`wave ${wave} arrived`, () => received === sent, 20_000, () => ({ sent, received }));
    pooledSeen = Math.max(pooledSeen, pooledChunks().count);
  }
  expect(bad).toEqual([]);
  expect(pooledSeen).toBeGreaterThan(0); // chunks were given back to be used again
}, 60_000);

test('frames dropped give their chunks back: a bound connection refused again and again (WRONG_NODE) pins none', async () => {
  const { transport: a } = await startNode({ nodeId: 'a' });
  const { transport: s } = await startNode({ nodeId: 's', reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
  const target = { nodeId: 'x', address: a.address }; // a listens there, not x: every handshake is refused
  pooledChunks(true);
  for (let cycle = 1; cycle <= 4; cycle++) {
    for (let i = 0; i < 4; i++) s.send(target, ProtocolId.ACTOR, Buffer.alloc(300 * 1024, i));
    await waitUntil(`cycle ${cycle}'s frames dropped`, () => s.stats().framesDropped === 4 * cycle, 10_000, () => s.stats());
  }
  // the chunks of the dropped frames went back to the pool (before, each cycle's stayed referenced for good)
  expect(pooledChunks().count).toBeGreaterThan(0);
});

test('a peer that stops reading makes send throw TransportBackpressureError at the bound, and drains after', async () => {
  const limit = 1024 * 1024;
  const { transport: a } = await startNode({ nodeId: 'a', outboundQueueBytes: limit, maxFrameBytes: 128 * 1024 });
  const peer = await stalledPeer();
  const to = { host: '127.0.0.1', port: peer.port };
  const ups: PeerInfo[] = [];
  a.onPeerUp((p) => ups.push(p));
  a.connect(to);
  await waitUntil('the handshake with the stalled peer completes', () => ups.length === 1);

  const chunk = Buffer.alloc(64 * 1024, 7);
  let accepted = 0;
  let error: unknown;
  // One frame per tick, so every flush hits the socket and its write() return value matters.
  while (error === undefined && accepted < 2000) {
    try {
      a.send(to, ProtocolId.ACTOR, chunk);
      accepted++;
    } catch (err) {
      error = err;
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(a.peerStatus(to)?.pendingBytes ?? 0).toBeLessThanOrEqual(limit);
  }
  expect(error).toBeInstanceOf(TransportBackpressureError);
  const e = error as TransportBackpressureError;
  expect(e.code).toBe('TRANSPORT_BACKPRESSURE');
  expect(e.limitBytes).toBe(limit);
  expect(e.message).toContain(`127.0.0.1:${peer.port}`);
  expect(e.message).toContain('outboundQueueBytes');
  // Bounded: the kernel's socket buffers plus our limit, not everything we tried to send.
  expect(accepted).toBeLessThan(2000);

  // Once the peer reads again, the queue drains and send works again.
  for (const s of peer.sockets) s.resume();
  await waitUntil('the queue drains', () => a.peerStatus(to)?.pendingBytes === 0, 10_000, () => a.peerStatus(to));
  expect(() => a.send(to, ProtocolId.ACTOR, chunk)).not.toThrow();
});

test('handshake refusals: wrong cluster, wrong version, own node id, and a second node claiming an id', async () => {
  const { transport: b, logger: bLog } = await startNode({ nodeId: 'b' });
  const { transport: other, logger: otherLog } = await startNode({ nodeId: 'x', clusterName: 'other' });
  other.connect(b.address);
  await waitUntil('b refuses the other cluster', () => bLog.errorsOf(HandshakeError).length === 1);
  expect(bLog.errorsOf(HandshakeError)[0]?.reason).toBe('CLUSTER_MISMATCH');
  await waitUntil('the dialer learns why', () => otherLog.errorsOf(HandshakeError).some((e) => e.reason === 'CLUSTER_MISMATCH'));

  const cases: Array<[Record<string, unknown>, string]> = [
    [{ t: 'hello', v: 99, cluster: 'test', node: 'n', host: '127.0.0.1', port: 1, nonce: 'x' }, 'VERSION_MISMATCH'],
    [{ t: 'hello', v: PROTOCOL_VERSION, cluster: 'test', node: 'b', host: '127.0.0.1', port: 1, nonce: 'x', uid: 'u',
      max: 1024, lane: 'data' }, 'DUPLICATE_NODE_ID'],
  ];
  for (const [hello, reason] of cases) {
    const socket = await rawConnect(b.address.port);
    const reader = new RawReader(socket);
    socket.write(handshakeFrame(hello));
    expect(await reader.next()).toMatchObject({ t: 'reject', reason });
    await closed(socket);
  }

  // Node 'n' at one address is connected; another connection claiming 'n' from another address is refused.
  const { transport: n1 } = await startNode({ nodeId: 'n' });
  const { transport: n2, logger: n2Log } = await startNode({ nodeId: 'n' });
  const atB = collect(b);
  n1.send(b.address, ProtocolId.ACTOR, text('from n1'));
  await waitUntil('n1 is connected', () => atB.length === 1);
  n2.send(b.address, ProtocolId.ACTOR, text('from n2'));
  await waitUntil('n2 is refused as a duplicate', () => n2Log.errorsOf(HandshakeError).some((e) => e.reason === 'DUPLICATE_NODE_ID'));
  expect(atB.map((f) => f.text)).toEqual(['from n1']);
});

test('handshake timeout on both sides, and reconnect backoff, run on the injected clock', async () => {
  const clock = new ManualClock();
  const { transport: b, logger: bLog } = await startNode({ nodeId: 'b', clock, handshakeTimeoutMs: 1000 });
  // A client that connects and says nothing is dropped when the clock passes the handshake timeout.
  const silent = await rawConnect(b.address.port);
  await waitUntil('b arms the handshake timer', () => clock.pendingTimers === 1);
  await clock.advance(999);
  expect(silent.closed).toBe(false);
  await clock.advance(1);
  await closed(silent);
  expect(bLog.errorsOf(HandshakeError)[0]?.reason).toBe('TIMEOUT');

  // A peer that accepts but never answers: the dialer times out, then retries at 100, 200, 400 ms.
  const clockA = new ManualClock();
  const accepted: net.Socket[] = [];
  const { port } = await rawServer((s) => accepted.push(s));
  const { transport: a, logger: aLog } = await startNode({ nodeId: 'a', clock: clockA, handshakeTimeoutMs: 1000,
    connectTimeoutMs: 500, random: () => 0, reconnect: { initialDelayMs: 100, multiplier: 2, maxDelayMs: 10_000 } });
  a.connect({ host: '127.0.0.1', port });
  for (const [attempt, delay] of [[1, 100], [2, 200], [3, 400]] as const) {
    await waitUntil(`connection ${attempt} is accepted`, () => accepted.length === attempt);
    await waitUntil('the dialer is handshaking', () => a.peerStatus({ host: '127.0.0.1', port })?.state === 'handshaking');
    await clockA.advance(1000);
    await waitUntil('the dialer backs off', () => a.peerStatus({ host: '127.0.0.1', port })?.state === 'backoff');
    await clockA.advance(delay - 1);
    expect(a.peerStatus({ host: '127.0.0.1', port })?.state).toBe('backoff');
    await clockA.advance(1);
  }
  await waitUntil('the fourth attempt is accepted', () => accepted.length === 4);
  // Every attempt is logged; only the first as a warning (a state change), the others at debug.
  const timeouts = aLog.entries.filter((e) => e.error instanceof HandshakeError && e.error.reason === 'TIMEOUT');
  expect(timeouts.map((e) => e.level)).toEqual(['warn', 'debug', 'debug']);
});

test('frames are rejected before they are queued when too large or for the handshake protocol', async () => {
  const { transport: a } = await startNode({ nodeId: 'a', maxFrameBytes: 1000 });
  expect(() => a.send(a.address, ProtocolId.ACTOR, Buffer.alloc(1001))).toThrow(/exceeds maxFrameBytes 1000/);
  expect(() => a.send(a.address, ProtocolId.HANDSHAKE, Buffer.alloc(1))).toThrow(/not an application protocol/);
  a.onFrame(ProtocolId.ACTOR, () => undefined);
  expect(() => a.onFrame(ProtocolId.ACTOR, () => undefined)).toThrow(/already has a handler/);
  expect(encodeFrame(ProtocolId.ACTOR, Buffer.from('x')).toString('hex')).toBe('000000020178');
});

test('start() on a port already in use fails with TransportBindError naming the address', async () => {
  const { transport: a } = await startNode({ nodeId: 'a' });
  const clash = new TcpTransport({ clusterName: 'test', nodeId: 'c', port: a.address.port });
  await expect(clash.start()).rejects.toThrow(TransportBindError);
  await expect(new TcpTransport({ clusterName: 'test', port: a.address.port }).start())
    .rejects.toThrow(`Could not listen on 127.0.0.1:${a.address.port}`);
});
