// Shared test helpers: starting TcpTransports that are closed after each test, collecting frames, and raw
// sockets that speak (or deliberately mangle) the wire protocol.

import * as net from 'node:net';
import { once } from 'node:events';
import { TcpTransport } from '@casty/cluster';
import type { NodeId, TransportConfig } from '@casty/cluster';
import type { ProtocolId } from '@casty/cluster/internal';
import { CapturingLogger, waitUntil } from '@casty/cluster/testing';
import { encodeFrame, FrameDecoder, ProtocolId as P } from '../src/transport/frame';
import { ClientHandshake, decodeHandshake, encodeHandshake, ServerHandshake } from '../src/transport/handshake';
import type { HandshakeMessage } from '../src/transport/handshake';

const open: TcpTransport[] = [];
const rawSockets: net.Socket[] = [];
const rawServers: net.Server[] = [];

/** Closes everything the helpers opened; call from afterEach. */
export async function cleanup(): Promise<void> {
  for (const s of rawSockets.splice(0)) s.destroy();
  await Promise.all(rawServers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  await Promise.all(open.splice(0).map((t) => t.close()));
}

/** A started TcpTransport on 127.0.0.1:0 (or `port`), logging into a CapturingLogger. */
export async function startNode(config: Partial<TransportConfig> = {}):
  Promise<{ transport: TcpTransport; logger: CapturingLogger }> {
  const logger = new CapturingLogger();
  const transport = new TcpTransport({ clusterName: 'test', logger, ...config });
  open.push(transport);
  await transport.start();
  return { transport, logger };
}

/** Records every frame of `protocol` a transport receives. */
export function collect(transport: TcpTransport, protocol: ProtocolId = P.ACTOR): Array<{ from: NodeId; text: string }> {
  const frames: Array<{ from: NodeId; text: string }> = [];
  transport.onFrame(protocol, (from, payload) => frames.push({ from, text: Buffer.from(payload).toString() }));
  return frames;
}

/** A connected raw TCP socket to `port`, destroyed by cleanup(). */
export async function rawConnect(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port });
  rawSockets.push(socket);
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  return socket;
}

/** Resolves when `socket` has closed (the far side hung up), whether or not it errored on the way. */
export function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => (socket.closed ? resolve() : socket.once('close', () => resolve())));
}

/** A raw TCP server whose accepted sockets are handed to `onSocket`; closed by cleanup(). */
export async function rawServer(onSocket: (socket: net.Socket) => void): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer((socket) => {
    rawSockets.push(socket);
    socket.on('error', () => undefined);
    onSocket(socket);
  });
  rawServers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as net.AddressInfo).port };
}

/** A HANDSHAKE frame carrying `message`. */
export function handshakeFrame(message: HandshakeMessage | Record<string, unknown>): Buffer {
  return encodeFrame(P.HANDSHAKE, encodeHandshake(message as HandshakeMessage));
}

/** Reads handshake messages from a raw socket, one at a time. */
export class RawReader {
  private readonly decoder = new FrameDecoder('test', 1 << 20);
  private readonly messages: HandshakeMessage[] = [];
  readonly received: Buffer[] = [];

  constructor(socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received.push(chunk);
      this.decoder.push(chunk);
      for (let f = this.decoder.next(); f !== undefined; f = this.decoder.next()) {
        if (f.protocolId === P.HANDSHAKE) this.messages.push(decodeHandshake('test', f.payload));
      }
    });
  }

  async next(what = 'a handshake message'): Promise<HandshakeMessage> {
    await waitUntil(`the raw socket receives ${what}`, () => this.messages.length > 0, 5000);
    return this.messages.shift() as HandshakeMessage;
  }
}

/**
 * Opens a raw socket to `port` and completes the client side of the handshake as node `nodeId` (with
 * `secret` if given); returns the socket, ready for application frames.
 */
export async function rawHandshake(port: number, nodeId: string, secret?: string,
  clusterName = 'test', options: { uid?: string; listenPort?: number } = {}): Promise<net.Socket> {
  const socket = await rawConnect(port);
  const reader = new RawReader(socket);
  const client = new ClientHandshake('test', { clusterName, nodeId, address: { host: '127.0.0.1', port: options.listenPort ?? 1 },
    uid: options.uid ?? `raw-${nodeId}`, maxFrameBytes: 16 * 1024 * 1024 }, secret === undefined ? undefined : Buffer.from(secret), 'data');
  socket.write(handshakeFrame(client.hello()));
  for (;;) {
    const step = client.receive(await reader.next());
    if (step.reply !== undefined) socket.write(handshakeFrame(step.reply));
    if (step.established !== undefined) return socket;
  }
}

/** A raw server that completes the listening side of the handshake, then reads nothing at all. */
export async function stalledPeer(): Promise<{ port: number; sockets: net.Socket[] }> {
  const sockets: net.Socket[] = [];
  const { port } = await rawServer((socket) => {
    sockets.push(socket);
    const decoder = new FrameDecoder('stalled', 4096);
    const server = new ServerHandshake('stalled', { clusterName: 'test', nodeId: 'stalled',
      address: { host: '127.0.0.1', port }, uid: 'stalled-1', maxFrameBytes: 16 * 1024 * 1024 }, undefined);
    const onData = (chunk: Buffer) => {
      decoder.push(chunk);
      for (let f = decoder.next(); f !== undefined; f = decoder.next()) {
        const step = server.receive(decodeHandshake('stalled', f.payload));
        if (step.reply !== undefined) socket.write(handshakeFrame(step.reply));
        if (step.established !== undefined) {
          socket.write(handshakeFrame({ t: 'welcome' }));
          socket.off('data', onData);
          socket.pause();
          return;
        }
      }
    };
    socket.on('data', onData);
  });
  return { port, sockets };
}

export { waitUntil };
