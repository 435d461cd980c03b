// The cluster secret (mutual HMAC challenge-response) and TLS (one-way and mutual), over real sockets.
// Certificates are made with openssl into a temporary directory when the file starts.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { ConnectTimeoutError, HandshakeError, TcpTransport } from '@casty/cluster';
import { ProtocolId } from '@casty/cluster/internal';
import type { TlsConfig } from '@casty/cluster';
import { InvalidArgumentError } from '@casty/core';
import { ManualClock } from '@casty/core/testing';
import { encodeFrame } from '../src/transport/frame';
import { ClientHandshake } from '../src/transport/handshake';
import { cleanup, closed, collect, handshakeFrame, rawConnect, rawServer, RawReader, startNode, waitUntil } from './helpers';

afterEach(cleanup);

const SECRET = 'correct horse battery staple, cluster edition';

describe('cluster secret', () => {
  test('nodes with the same secret connect and exchange frames', async () => {
    const { transport: a } = await startNode({ nodeId: 'a', secret: SECRET });
    const { transport: b } = await startNode({ nodeId: 'b', secret: SECRET });
    const atB = collect(b);
    const atA = collect(a);
    a.send(b.address, ProtocolId.ACTOR, Buffer.from('hi'));
    await waitUntil('b gets the frame', () => atB.length === 1);
    b.send('a', ProtocolId.ACTOR, Buffer.from('hello'));
    await waitUntil('a gets the reply', () => atA.length === 1);
  });

  test('a wrong or missing secret is refused on both sides, and nothing is delivered', async () => {
    const { transport: b, logger: bLog } = await startNode({ nodeId: 'b', secret: SECRET });
    const atB = collect(b);
    const { transport: wrong, logger: wrongLog } = await startNode({ nodeId: 'w', secret: 'another secret of enough length' });
    const { transport: none, logger: noneLog } = await startNode({ nodeId: 'n' });
    wrong.send(b.address, ProtocolId.ACTOR, Buffer.from('from wrong'));
    none.send(b.address, ProtocolId.ACTOR, Buffer.from('from none'));
    await waitUntil('both dialers are told the authentication failed',
      () => [wrongLog, noneLog].every((l) => l.errorsOf(HandshakeError).some((e) => e.reason === 'AUTHENTICATION_FAILED')),
      5000, () => [wrongLog.entries, noneLog.entries]);
    // A node with a secret also refuses a listener that cannot prove it (mutual): b dialing `none`.
    b.connect(none.address);
    await waitUntil('b refuses a listener without the secret',
      () => bLog.entries.some((e) => e.error instanceof HandshakeError && e.error.reason === 'AUTHENTICATION_FAILED' &&
        e.message.includes('Could not connect')));
    expect(atB).toEqual([]);
    expect(b.stats().framesReceived).toBe(0);
  });

  test('an application frame pipelined right after a bad proof is never read', async () => {
    const { transport: b, logger: bLog } = await startNode({ nodeId: 'b', secret: SECRET });
    const atB = collect(b);
    const socket = await rawConnect(b.address.port);
    const reader = new RawReader(socket);
    const client = new ClientHandshake('test', { clusterName: 'test', nodeId: 'evil', address: { host: '127.0.0.1', port: 1 },
      uid: 'evil-1', maxFrameBytes: 4096 }, undefined, 'data');
    socket.write(handshakeFrame(client.hello()));
    const ack = await reader.next('the ack');
    expect(ack.t).toBe('ack');
    // Forge an auth (no proof) and, in the same write, an actor frame.
    socket.write(Buffer.concat([handshakeFrame({ t: 'auth', proof: 'AAAA' }), encodeFrame(ProtocolId.ACTOR, Buffer.from('injected'))]));
    expect(await reader.next('the reject')).toMatchObject({ t: 'reject', reason: 'AUTHENTICATION_FAILED' });
    await closed(socket);
    expect(atB).toEqual([]);
    expect(bLog.errorsOf(HandshakeError).map((e) => e.reason)).toEqual(['AUTHENTICATION_FAILED']);
  });

  test('the secret never appears in the bytes either node sends', async () => {
    const { transport: a } = await startNode({ nodeId: 'a', secret: SECRET });
    const { transport: b } = await startNode({ nodeId: 'b', secret: SECRET });
    const atB = collect(b);
    // A recording proxy between a and b: every byte of a full handshake plus application traffic, both ways.
    const captured: Buffer[] = [];
    const { port } = await rawServer((client) => {
      const upstream = net.connect({ host: '127.0.0.1', port: b.address.port });
      upstream.on('error', () => client.destroy());
      client.on('data', (d: Buffer) => { captured.push(d); upstream.write(d); });
      upstream.on('data', (d: Buffer) => { captured.push(d); client.write(d); });
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    a.send({ host: '127.0.0.1', port }, ProtocolId.ACTOR, Buffer.from('payload through the proxy'));
    await waitUntil('b gets the frame through the proxy', () => atB.length === 1);
    const wire = Buffer.concat(captured);
    expect(wire.toString('latin1')).toContain('payload through the proxy');
    for (const form of [Buffer.from(SECRET), Buffer.from(Buffer.from(SECRET).toString('base64')), Buffer.from(Buffer.from(SECRET).toString('hex'))]) {
      expect(wire.includes(form)).toBe(false);
    }
    expect(wire.toString('latin1')).toMatch(/"proof":/);
  });
});

describe('TLS', () => {
  let dir: string;
  let nodeTls: TlsConfig;
  let rogueTls: TlsConfig;

  function openssl(...args: string[]): void {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  }

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'casty-tls-'));
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    fs.writeFileSync(path.join(dir, 'ext.cnf'),
      'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
    openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=casty-test-ca');
    openssl('req', ...ec, '-keyout', 'node.key', '-out', 'node.csr', '-subj', '/CN=casty-node');
    openssl('x509', '-req', '-in', 'node.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
      '-out', 'node.crt', '-days', '1', '-extfile', 'ext.cnf');
    // A certificate from no CA the cluster trusts.
    openssl('req', '-x509', ...ec, '-keyout', 'rogue.key', '-out', 'rogue.crt', '-days', '1', '-subj', '/CN=rogue',
      '-addext', 'subjectAltName=IP:127.0.0.1');
    const file = (name: string) => ({ file: path.join(dir, name) });
    nodeTls = { key: file('node.key'), cert: file('node.crt'), ca: file('ca.crt') };
    rogueTls = { key: file('rogue.key'), cert: file('rogue.crt'), ca: file('ca.crt') };
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('nodes exchange frames over TLS, and a plain-TCP node is refused', async () => {
    const { transport: a } = await startNode({ nodeId: 'a', tls: nodeTls });
    const { transport: b, logger: bLog } = await startNode({ nodeId: 'b', tls: nodeTls });
    const atA = collect(a);
    const atB = collect(b);
    a.send(b.address, ProtocolId.ACTOR, Buffer.from('over tls'));
    await waitUntil('b gets the frame', () => atB.length === 1);
    b.send('a', ProtocolId.ACTOR, Buffer.from('back over tls'));
    await waitUntil('a gets the reply', () => atA.length === 1);

    const { transport: plain } = await startNode({ nodeId: 'p' });
    plain.send(b.address, ProtocolId.ACTOR, Buffer.from('plain'));
    await waitUntil('b refuses the plain connection', () => b.stats().connectionsRefused >= 1, 5000, () => bLog.entries);
    expect(atB.map((f) => f.text)).toEqual(['over tls']);
  });

  test('TLS is mutual by default: a client with a certificate from another CA, or none, is refused', async () => {
    const { transport: b, logger: bLog } = await startNode({ nodeId: 'b', tls: nodeTls });
    const atB = collect(b);
    const { transport: good } = await startNode({ nodeId: 'good', tls: nodeTls });
    good.send(b.address, ProtocolId.ACTOR, Buffer.from('good'));
    await waitUntil('the client with a CA certificate gets through', () => atB.length === 1);

    const { transport: rogue } = await startNode({ nodeId: 'rogue', tls: rogueTls });
    rogue.send(b.address, ProtocolId.ACTOR, Buffer.from('rogue'));
    await waitUntil('b refuses the rogue certificate', () => b.stats().connectionsRefused === 1, 5000, () => bLog.entries);

    const noCert = tls.connect({ host: '127.0.0.1', port: b.address.port, ca: fs.readFileSync(path.join(dir, 'ca.crt')) });
    noCert.on('error', () => undefined);
    await closed(noCert);
    await waitUntil('b refuses the client without a certificate', () => b.stats().connectionsRefused === 2, 5000, () => bLog.entries);
    expect(atB.map((f) => f.text)).toEqual(['good']);
    expect(b.stats().connectionsAccepted).toBe(1);
    // Admission saw each TLS connection through: the accepted one and the refused ones are no longer pending.
    await waitUntil('no connection is left pending', () => b.stats().pendingHandshakes === 0, 5000, () => b.stats());
    expect(b.stats().connectionsShed).toBe(0);
  });

  test('a node whose certificate the cluster CA did not sign is refused in both directions', async () => {
    const { transport: b, logger: bLog } = await startNode({ nodeId: 'b', tls: nodeTls });
    const { transport: rogue, logger: rogueLog } = await startNode({ nodeId: 'rogue', tls: rogueTls });
    const atB = collect(b);
    const atRogue = collect(rogue);
    // rogue dials b: b, listening, refuses its client certificate.
    rogue.send(b.address, ProtocolId.ACTOR, Buffer.from('rogue to b'));
    await waitUntil('b refuses the rogue client', () => b.stats().connectionsRefused === 1, 5000, () => bLog.entries);
    // b dials rogue: b, dialing, refuses rogue's server certificate, and sends it nothing.
    b.send(rogue.address, ProtocolId.ACTOR, Buffer.from('b to rogue'));
    await waitUntil('b refuses the rogue listener',
      () => bLog.entries.some((e) => e.message.includes('Could not connect') && /certificate/i.test(e.error?.message ?? '')),
      5000, () => bLog.entries);
    await waitUntil('rogue sees the connection end', () => rogue.stats().connectionsRefused >= 1, 5000, () => rogueLog.entries);
    expect(atB).toEqual([]);
    expect(atRogue).toEqual([]);
    expect(b.stats().connectionsAccepted).toBe(0);
    expect(rogue.stats().connectionsAccepted).toBe(0);
    expect(b.stats().framesReceived + rogue.stats().framesReceived).toBe(0);
  });

  test('mutual: false is an explicit opt-out: a client without a certificate gets through TLS', async () => {
    const { transport: b } = await startNode({ nodeId: 'b', tls: { ...nodeTls, mutual: false } });
    const noCert = tls.connect({ host: '127.0.0.1', port: b.address.port, ca: fs.readFileSync(path.join(dir, 'ca.crt')) });
    noCert.on('error', () => undefined);
    const reader = new RawReader(noCert);
    const client = new ClientHandshake('test', { clusterName: 'test', nodeId: 'anon', address: { host: '127.0.0.1', port: 1 },
      uid: 'anon-1', maxFrameBytes: 4096 }, undefined, 'data');
    noCert.write(handshakeFrame(client.hello()));
    expect(await reader.next('the ack')).toMatchObject({ t: 'ack', node: 'b' });
    noCert.destroy();
  });

  test('a TLS connect that never completes fails with ConnectTimeoutError on the injected clock', async () => {
    const clock = new ManualClock();
    const { port } = await rawServer(() => undefined); // accepts TCP, never speaks TLS
    const { transport: a, logger } = await startNode({ nodeId: 'a', tls: nodeTls, clock, connectTimeoutMs: 700 });
    const to = { host: '127.0.0.1', port };
    a.connect(to);
    await waitUntil('the connect timer is armed', () => clock.pendingTimers === 1);
    await clock.advance(700);
    await waitUntil('the dialer backs off', () => a.peerStatus(to)?.state === 'backoff');
    expect(logger.errorsOf(ConnectTimeoutError)).toHaveLength(1);
  });
});

describe('a node reachable from the network needs credentials, or an explicit opt-out', () => {
  // Binding every interface is not loopback; advertising 127.0.0.1 keeps the test's traffic local.
  const exposed = { clusterName: 'test', host: '0.0.0.0', advertiseHost: '127.0.0.1' } as const;

  test('without secret, tls or insecure: true it is refused at construction, naming the fix', () => {
    let error: unknown;
    try {
      new TcpTransport(exposed);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(/^TransportConfig\.host '0\.0\.0\.0' is not a loopback address/);
    expect((error as Error).message).toMatch(/Set secret .* or tls, or set insecure: true/);
    expect(() => new TcpTransport({ ...exposed, insecure: 'yes' as never })).toThrow(/TransportConfig\.insecure must be a boolean/);
    expect(() => new TcpTransport({ ...exposed, tls: { key: { pem: 'key' }, cert: { pem: 'cert' } } })).not.toThrow();
    expect(() => new TcpTransport({ ...exposed, secret: SECRET })).not.toThrow();
    // Loopback stays easy: no credentials needed.
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1']) {
      expect(() => new TcpTransport({ clusterName: 'test', host })).not.toThrow();
    }
  });

  test('with a secret or insecure: true it starts; only the opt-out logs a warning, once', async () => {
    const { transport: withSecret, logger: secretLog } = await startNode({ ...exposed, nodeId: 's', secret: SECRET });
    const { transport: open, logger: openLog } = await startNode({ ...exposed, nodeId: 'o', insecure: true });
    const atOpen = collect(open);
    expect(openLog.entries.filter((e) => e.level === 'warn').map((e) => e.message))
      .toEqual([expect.stringMatching(/listens on 0\.0\.0\.0:[1-9]\d*, which is not a loopback address, without secret or tls \(insecure: true\)/)]);
    expect(secretLog.entries.filter((e) => e.level === 'warn')).toEqual([]);
    // The opt-out node works as any other (here, reached through its advertised loopback address).
    const { transport: a } = await startNode({ nodeId: 'a' });
    a.send(open.address, ProtocolId.ACTOR, Buffer.from('hello'));
    await waitUntil('the insecure node gets the frame', () => atOpen.length === 1);
    expect(withSecret.address.host).toBe('127.0.0.1');
  });
});

test('a TcpTransport rejects wrong options at construction, naming the field', () => {
  const make = (extra: Record<string, unknown>) => () => new TcpTransport({ clusterName: 'c', ...extra });
  expect(make({ connectTimeoutMs: -1 })).toThrow(/TransportConfig\.connectTimeoutMs must be/);
  expect(() => new TcpTransport({ clusterName: '' })).toThrow(/TransportConfig\.clusterName must be a non-empty string/);
  expect(make({ secret: 'short' })).toThrow(/TransportConfig\.secret must be at least 16 bytes/);
  expect(make({ secret: 'short' })).not.toThrow(/short/);
  expect(make({ tls: { key: { file: path.join(os.tmpdir(), 'no-such-dir-casty', 'k.pem') }, cert: { pem: 'x' } } }))
    .toThrow(/TransportConfig\.tls\.key\.file must be a readable file/);
  expect(make({ maxFrameBytes: 1024, outboundQueueBytes: 1000 })).toThrow(/outboundQueueBytes/);
  expect(make({ reconnect: { multiplier: 0.5 } })).toThrow(/reconnect\.multiplier/);
  expect(make({ reconnect: { initialDelayMs: 500, maxDelayMs: 100 } })).toThrow(/reconnect\.maxDelayMs/);
  expect(make({ host: '0.0.0.0' })).toThrow(/advertiseHost must be set/);
  expect(make({ conectTimeoutMs: 5 })).toThrow(/has no option 'conectTimeoutMs'/);
  expect(make({ port: 70000 })).toThrow(/TransportConfig\.port/);
  expect(make({ idleTimeoutMs: 999 })).toThrow(/TransportConfig\.idleTimeoutMs must be an integer from 1000/);
  expect(make({ idleTimeoutMs: 1500.5 })).toThrow(/TransportConfig\.idleTimeoutMs/);
  expect(make({ maxPendingHandshakes: 0 })).toThrow(/TransportConfig\.maxPendingHandshakes must be an integer from 1/);
  expect(make({ maxPendingHandshakesPerAddress: '16' })).toThrow(/TransportConfig\.maxPendingHandshakesPerAddress/);
  expect(make({ tls: { key: { pem: 'k' }, cert: { pem: 'c' }, mutual: 'no' } })).toThrow(/TransportConfig\.tls\.mutual must be a boolean/);
  try {
    make({ handshakeTimeoutMs: 0 })();
  } catch (err) {
    expect((err as { code?: string }).code).toBe('INVALID_ARGUMENT');
  }
});
