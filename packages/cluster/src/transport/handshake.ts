// The connection handshake: its messages, their encoding, and the two sides' state machines
// (ClientHandshake for the dialing node, ServerHandshake for the listening one). Pure logic: no sockets,
// no timers; the connection classes feed frames in and write the replies out.
//
//   client -> server  hello    { v, cluster, node, host, port, nonce, uid, max, lane, to? }
//   server -> client  ack      { v, cluster, node, host, port, nonce, uid, max, proof? }   or reject
//   client -> server  auth     { proof? }                                          (or closes)
//   server -> client  welcome  {}                                                  or reject
//
// Without a secret, proofs are absent. With a secret, each side proves it knows the secret with
// HMAC-SHA256(secret, role, cluster, both node ids, both nonces): the secret never crosses the wire, both
// random nonces make every proof unique (no replay), and the role label stops a proof being reflected back.
// The server reads nothing but handshake frames until the client's proof checks out.
//
// `uid` is random per process (Akka's association uid): a connection from the same node id and uid is the
// same process reconnecting, one with another uid is the node restarted. `max` is the sender's maxFrameBytes:
// each side sends the other no payload larger than the other accepts. `lane` says which of the two connections
// between a pair of nodes this is. `to` is the node id the client means to reach: a server with another id
// refuses with WRONG_NODE, so frames meant for a node that is gone never reach whoever took its address.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { HandshakeError } from './errors';
import type { HandshakeFailure } from './errors';
import type { Lane, NodeAddress } from './Transport';
import { MAX_NAME_BYTES } from './TransportConfig';

/** Version of the wire protocol (framing + handshake); peers of another version are refused. */
export const PROTOCOL_VERSION = 2;

/** Largest handshake payload; before a handshake completes the decoder accepts no larger frame. */
export const HANDSHAKE_MAX_PAYLOAD_BYTES = 4096;

const NONCE_BYTES = 32;

/** Who a node says it is in the handshake. */
export interface HandshakeIdentity {
  readonly clusterName: string;
  readonly nodeId: string;
  /** The node's listening address, so replies can be sent to it. */
  readonly address: NodeAddress;
  /** Random per process: tells a reconnect of the same process from a restart of the node. */
  readonly uid: string;
  /** The largest frame payload the node accepts. */
  readonly maxFrameBytes: number;
}

/** What the listening side learns of a connection: the peer, its lane, and whether it was meant for this node by id. */
export interface InboundIdentity extends HandshakeIdentity {
  readonly lane: Lane;
  /** True when the client named this node's id (a bound connection), false for a connection to an address. */
  readonly bound: boolean;
}

/** A handshake message. */
export type HandshakeMessage =
  | { readonly t: 'hello' | 'ack'; readonly v: number; readonly cluster: string; readonly node: string;
    readonly host: string; readonly port: number; readonly nonce: string; readonly uid: string; readonly max: number;
    readonly lane?: Lane; readonly to?: string; readonly proof?: string }
  | { readonly t: 'auth'; readonly proof?: string }
  | { readonly t: 'welcome' }
  | { readonly t: 'reject'; readonly reason: HandshakeFailure; readonly message: string };

const FAILURES: ReadonlySet<string> = new Set<HandshakeFailure>(
  ['VERSION_MISMATCH', 'CLUSTER_MISMATCH', 'AUTHENTICATION_FAILED', 'DUPLICATE_NODE_ID', 'TIMEOUT', 'PROTOCOL',
    'WRONG_NODE']);

/** Encodes a handshake message as the payload of a HANDSHAKE frame. */
export function encodeHandshake(message: HandshakeMessage): Buffer {
  return Buffer.from(JSON.stringify(message), 'utf8');
}

function isShortString(value: unknown, maxBytes = MAX_NAME_BYTES): value is string {
  return typeof value === 'string' && value.length > 0 && Buffer.byteLength(value) <= maxBytes;
}

/**
 * Decodes a HANDSHAKE payload, checking every field. The version is checked first, so a peer of another
 * version gets VERSION_MISMATCH whatever else its messages carry.
 */
export function decodeHandshake(peer: string, payload: Uint8Array): HandshakeMessage {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
  } catch {
    throw new HandshakeError(peer, 'PROTOCOL', 'handshake message is not valid JSON');
  }
  if (value === null || typeof value !== 'object') throw new HandshakeError(peer, 'PROTOCOL', 'handshake message is not an object');
  const m = value as Record<string, unknown>;
  const proofOk = m['proof'] === undefined || isShortString(m['proof'], 128);
  switch (m['t']) {
    case 'hello':
    case 'ack':
      if (m['v'] !== PROTOCOL_VERSION) {
        throw new HandshakeError(peer, 'VERSION_MISMATCH',
          `peer speaks protocol version ${JSON.stringify(m['v'])}, this node speaks ${PROTOCOL_VERSION}`);
      }
      if (isShortString(m['cluster']) && isShortString(m['node']) && isShortString(m['host']) &&
        Number.isInteger(m['port']) && (m['port'] as number) > 0 && (m['port'] as number) <= 65535 &&
        isShortString(m['nonce'], 64) && isShortString(m['uid'], 64) && Number.isInteger(m['max']) &&
        (m['max'] as number) >= 1 && (m['max'] as number) <= 2 ** 32 - 2 &&
        (m['t'] === 'ack' || m['lane'] === 'control' || m['lane'] === 'data') &&
        (m['to'] === undefined || isShortString(m['to'])) && proofOk) {
        return m as HandshakeMessage;
      }
      break;
    case 'auth':
      if (proofOk) return m as HandshakeMessage;
      break;
    case 'welcome':
      return { t: 'welcome' };
    case 'reject':
      if (typeof m['reason'] === 'string' && FAILURES.has(m['reason']) && typeof m['message'] === 'string') {
        return { t: 'reject', reason: m['reason'] as HandshakeFailure, message: m['message'].slice(0, 1000) };
      }
      break;
  }
  throw new HandshakeError(peer, 'PROTOCOL', `invalid handshake message of type ${JSON.stringify(m['t'])}`);
}

/** The HMAC proof that `role` knows the secret, bound to this connection's identities and nonces. */
function proof(secret: Buffer, role: 'client' | 'server', cluster: string, clientNode: string, serverNode: string,
  clientNonce: string, serverNonce: string): string {
  const hmac = createHmac('sha256', secret);
  // Each field is length-prefixed so no two different field lists hash the same bytes.
  for (const field of [`casty-handshake-${role}`, cluster, clientNode, serverNode, clientNonce, serverNonce]) {
    const bytes = Buffer.from(field, 'utf8');
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(bytes.length, 0);
    hmac.update(length).update(bytes);
  }
  return hmac.digest('base64');
}

function proofMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function authenticationFailed(peer: string, given: string | undefined): HandshakeError {
  return new HandshakeError(peer, 'AUTHENTICATION_FAILED', given === undefined
    ? 'peer did not prove it knows the cluster secret (it has none configured?)'
    : 'peer\'s proof of the cluster secret is wrong (it has another secret)');
}

function identityOf(m: { cluster: string; node: string; host: string; port: number; uid: string; max: number }): HandshakeIdentity {
  return { clusterName: m.cluster, nodeId: m.node, address: { host: m.host, port: m.port }, uid: m.uid, maxFrameBytes: m.max };
}

function wrongNode(peer: string, meant: string, actual: string): HandshakeError {
  return new HandshakeError(peer, 'WRONG_NODE', `the connection was meant for node '${meant}', but node '${actual}' ` +
    'listens at that address now');
}

/** Shared checks of the peer's hello/ack: same cluster, not this node's own id. */
function checkPeer(peer: string, local: HandshakeIdentity, m: { cluster: string; node: string }): void {
  if (m.cluster !== local.clusterName) {
    throw new HandshakeError(peer, 'CLUSTER_MISMATCH',
      `peer is in cluster '${m.cluster}', this node is in '${local.clusterName}'`);
  }
  if (m.node === local.nodeId) {
    throw new HandshakeError(peer, 'DUPLICATE_NODE_ID', `peer claims this node's own id '${m.node}'`);
  }
}

function unexpected(peer: string, expected: string, got: HandshakeMessage): HandshakeError {
  if (got.t === 'reject') return new HandshakeError(peer, got.reason, `peer refused the connection: ${got.message}`);
  return new HandshakeError(peer, 'PROTOCOL', `expected ${expected}, got ${got.t}`);
}

/** The result of feeding one message to a handshake: what to send back, and the peer once it is done. */
export interface HandshakeStep<T extends HandshakeIdentity = HandshakeIdentity> {
  readonly reply?: HandshakeMessage;
  readonly established?: T;
}

/** The dialing side. Call `hello()` once connected, then `receive()` each handshake message; errors throw. */
export class ClientHandshake {
  private readonly nonce = randomBytes(NONCE_BYTES).toString('base64');
  private state: 'start' | 'awaitAck' | 'awaitWelcome' | 'done' = 'start';
  private remote: HandshakeIdentity | undefined;

  /**
   * @param lane which of the two connections to the peer this is
   * @param expected the node id this connection is meant for; another node at the address refuses it
   */
  constructor(private readonly peer: string, private readonly local: HandshakeIdentity,
    private readonly secret: Buffer | undefined, private readonly lane: Lane, private readonly expected?: string) {}

  /** The first message. */
  hello(): HandshakeMessage {
    this.state = 'awaitAck';
    const { clusterName, nodeId, address, uid, maxFrameBytes } = this.local;
    return { t: 'hello', v: PROTOCOL_VERSION, cluster: clusterName, node: nodeId, host: address.host,
      port: address.port, nonce: this.nonce, uid, max: maxFrameBytes, lane: this.lane,
      ...(this.expected === undefined ? {} : { to: this.expected }) };
  }

  receive(m: HandshakeMessage): HandshakeStep {
    if (this.state === 'awaitAck') {
      if (m.t !== 'ack') throw unexpected(this.peer, 'ack', m);
      checkPeer(this.peer, this.local, m);
      if (this.expected !== undefined && m.node !== this.expected) throw wrongNode(this.peer, this.expected, m.node);
      this.remote = identityOf(m);
      this.state = 'awaitWelcome';
      if (this.secret === undefined) {
        // A server with a secret sends a proof we cannot check; it will refuse our proof-less auth.
        return { reply: { t: 'auth' } };
      }
      const expected = proof(this.secret, 'server', m.cluster, this.local.nodeId, m.node, this.nonce, m.nonce);
      if (!proofMatches(expected, m.proof)) throw authenticationFailed(this.peer, m.proof);
      return { reply: { t: 'auth', proof: proof(this.secret, 'client', m.cluster, this.local.nodeId, m.node, this.nonce, m.nonce) } };
    }
    if (this.state === 'awaitWelcome') {
      if (m.t !== 'welcome') throw unexpected(this.peer, 'welcome', m);
      this.state = 'done';
      return { established: this.remote as HandshakeIdentity };
    }
    throw unexpected(this.peer, 'no handshake message', m);
  }
}

/**
 * The listening side. Feed it each handshake message; when `receive` returns `established`, the caller
 * decides (duplicate ids) and sends `welcome` or a reject.
 */
export class ServerHandshake {
  private readonly nonce = randomBytes(NONCE_BYTES).toString('base64');
  private state: 'awaitHello' | 'awaitAuth' | 'done' = 'awaitHello';
  private hello: (HandshakeMessage & { t: 'hello' | 'ack' }) | undefined;

  constructor(private readonly peer: string, private readonly local: HandshakeIdentity,
    private readonly secret: Buffer | undefined) {}

  receive(m: HandshakeMessage): HandshakeStep<InboundIdentity> {
    if (this.state === 'awaitHello') {
      if (m.t !== 'hello') throw unexpected(this.peer, 'hello', m);
      checkPeer(this.peer, this.local, m);
      if (m.to !== undefined && m.to !== this.local.nodeId) throw wrongNode(this.peer, m.to, this.local.nodeId);
      this.hello = m;
      this.state = 'awaitAuth';
      const { clusterName, nodeId, address, uid, maxFrameBytes } = this.local;
      const ack: HandshakeMessage = { t: 'ack', v: PROTOCOL_VERSION, cluster: clusterName, node: nodeId,
        host: address.host, port: address.port, nonce: this.nonce, uid, max: maxFrameBytes,
        ...(this.secret === undefined ? {} : { proof: this.proofOf('server', m.node, m.nonce) }) };
      return { reply: ack };
    }
    if (this.state === 'awaitAuth') {
      if (m.t !== 'auth') throw unexpected(this.peer, 'auth', m);
      const hello = this.hello as HandshakeMessage & { t: 'hello' };
      if (this.secret !== undefined && !proofMatches(this.proofOf('client', hello.node, hello.nonce), m.proof)) {
        throw authenticationFailed(this.peer, m.proof);
      }
      this.state = 'done';
      return { established: { ...identityOf(hello), lane: hello.lane ?? 'data', bound: hello.to !== undefined } };
    }
    throw unexpected(this.peer, 'no handshake message', m);
  }

  private proofOf(role: 'client' | 'server', clientNode: string, clientNonce: string): string {
    return proof(this.secret as Buffer, role, this.local.clusterName, clientNode, this.local.nodeId, clientNonce, this.nonce);
  }
}
