// TransportConfig: every option of TcpTransport with its unit and the reason for its default, and
// resolveTransportConfig, which validates the options at the call (a wrong one throws InvalidArgumentError
// naming the field) and reads TLS files once, so a bad path fails at construction, not at the first connect.

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { InvalidArgumentError, SystemClock } from '@casty/core';
import type { Clock } from '@casty/core';
import { consoleLogger } from '@casty/core';
import type { Logger } from '@casty/core';

/** Reconnect backoff: attempt n waits min(maxDelayMs, initialDelayMs * multiplier^n), less up to `jitter` of it. */
export interface ReconnectConfig {
  /** Milliseconds before the first retry. Default 100: a restarting peer is usually back within a second. */
  readonly initialDelayMs?: number;
  /** Upper bound of the delay in milliseconds. Default 10 000: a peer gone for minutes costs one dial per 10 s. */
  readonly maxDelayMs?: number;
  /** Growth factor per failed attempt, >= 1. Default 2 (doubling). */
  readonly multiplier?: number;
  /**
   * Fraction 0..1 of each delay taken off at random. Default 0.2: nodes that lost the same peer do not all
   * redial it in the same millisecond.
   */
  readonly jitter?: number;
}

/** PEM text given inline, or the path of a file holding it (read once, at construction). */
export type PemSource = { readonly file: string } | { readonly pem: string | Uint8Array };

/** TLS for every connection of the node (it is both server and client, so it always has a key and cert). */
export interface TlsConfig {
  /** This node's private key. */
  readonly key: PemSource;
  /** This node's certificate, presented to peers in both directions. */
  readonly cert: PemSource;
  /**
   * CA certificate(s) peers' certificates must chain to, in both directions. Default: Node's bundled public
   * CAs; set it to the cluster's own CA, or any certificate a public CA signed would be accepted as a node.
   */
  readonly ca?: PemSource;
  /**
   * Mutual TLS: the listening side requests the dialer's certificate and refuses a connection without one
   * that `ca` signed (requestCert + rejectUnauthorized), so both ends of every connection are authenticated.
   * Default true. `false` is an explicit opt-out: encryption and server authentication only; any client
   * can connect and, without a `secret`, message every actor.
   */
  readonly mutual?: boolean;
  /**
   * Check that the listener's certificate names the host dialed. Default true; turn it off only when every
   * node's certificate comes from a private cluster CA and names no host.
   */
  readonly verifyHostname?: boolean;
}

/** Options of a TcpTransport. Only `clusterName` is required. */
export interface TransportConfig {
  /** Name of the cluster; a peer with another name is refused in the handshake. 1-255 bytes. */
  readonly clusterName: string;
  /** This node's id, unique in the cluster, 1-255 bytes. Default: a random UUID (a restart is a new node). */
  readonly nodeId?: string;
  /** Interface to bind. Default '127.0.0.1': nothing is exposed to the network unless asked for. */
  readonly host?: string;
  /** Port to bind; 0 picks a free one. Default 0. */
  readonly port?: number;
  /** Host peers should dial, announced in the handshake. Default: `host`; required when `host` is a wildcard. */
  readonly advertiseHost?: string;
  /**
   * Milliseconds a TCP (and TLS) connect may take. Default 5000: on a LAN it takes a millisecond, and 5 s
   * still rides out a lost SYN (retransmitted after 1 s, then 3 s) before counting the attempt as failed.
   */
  readonly connectTimeoutMs?: number;
  /**
   * Milliseconds from connected to handshake done (both directions, secret challenge included). Default 5000:
   * four small messages; a peer that says nothing for that long is not a Casty node, or is stuck.
   */
  readonly handshakeTimeoutMs?: number;
  /**
   * Largest payload of one frame, in bytes, checked from the length field before anything is allocated.
   * Default 16 MiB: large enough for any sensible message, small enough that a corrupt or hostile length
   * field cannot make the node allocate gigabytes. Every node of a cluster should use the same value.
   */
  readonly maxFrameBytes?: number;
  /**
   * Bytes that may wait to be written to one peer (queued here plus buffered in the socket). When full,
   * `send` throws TransportBackpressureError. Default 32 MiB: two maximum frames, so one can be in flight
   * while the next waits; must be at least maxFrameBytes + 5.
   */
  readonly outboundQueueBytes?: number;
  /** Reconnect backoff; see ReconnectConfig for defaults. */
  readonly reconnect?: ReconnectConfig;
  /**
   * Shared cluster secret. When set, both sides of every connection prove they know it (HMAC-SHA256 over both
   * sides' random nonces and node ids; the secret itself is never sent) before any application frame is read.
   * At least 16 bytes. Default: none.
   */
  readonly secret?: string | Uint8Array;
  /** TLS for every connection, mutual by default. Default: none (plain TCP). */
  readonly tls?: TlsConfig;
  /**
   * Explicit opt-out of authentication: lets a node bound to a non-loopback `host` start without `secret` or
   * `tls`, so any host that can reach its port can message every actor. Only for an isolated, trusted network;
   * a warning is logged at start. Default false: such a node refuses to start (InvalidArgumentError). A
   * loopback host (127.0.0.0/8, ::1, localhost) needs neither credentials nor this flag.
   */
  readonly insecure?: boolean;
  /**
   * Connections accepted but not yet through the handshake (TLS included), in total. When a new connection
   * would pass it, the oldest pending connection from an address that never completed a handshake is closed
   * (shed) first. Default 256: a real node's handshake takes a few round trips, so hundreds pending at once
   * means a flood; each costs a socket and a few KiB.
   */
  readonly maxPendingHandshakes?: number;
  /**
   * Connections pending the handshake from one remote IP address (an IPv6 address counts by its /64) that is
   * not a known member (no connection from it completed a handshake, and the node was not told to dial it). A
   * new one over the cap sheds the address's oldest pending one. Default 16: a node dials a peer once (plus a
   * reconnect or two).
   */
  readonly maxPendingHandshakesPerAddress?: number;
  /**
   * Milliseconds a connection may stay idle (or stalled inside a frame) before it is closed. Default 60 000:
   * a member talks (SWIM probes, gossip) every second or so, so a minute of silence is a dead or hostile peer.
   * At least 1000.
   */
  readonly idleTimeoutMs?: number;
  /** Source of time for every timeout and backoff. Default: SystemClock.instance. */
  readonly clock?: Clock;
  /** Where connection problems are reported. Default: console.warn for warnings and errors. */
  readonly logger?: Logger;
  /** Random numbers in [0, 1) for backoff jitter. Default: Math.random. */
  readonly random?: () => number;
}

/** TLS material after reading files. */
export interface ResolvedTls {
  readonly key: Buffer;
  readonly cert: Buffer;
  readonly ca: Buffer | undefined;
  readonly mutual: boolean;
  readonly verifyHostname: boolean;
}

/** A validated TransportConfig with every default filled in. */
export interface ResolvedTransportConfig {
  readonly clusterName: string;
  readonly nodeId: string;
  readonly host: string;
  readonly port: number;
  readonly advertiseHost: string;
  readonly connectTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly maxFrameBytes: number;
  readonly outboundQueueBytes: number;
  readonly reconnect: Required<ReconnectConfig>;
  readonly secret: Buffer | undefined;
  readonly tls: ResolvedTls | undefined;
  /** True when the node starts without credentials on a non-loopback host because `insecure` allowed it. */
  readonly insecure: boolean;
  readonly maxPendingHandshakes: number;
  readonly maxPendingHandshakesPerAddress: number;
  readonly idleTimeoutMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random: () => number;
}

const MiB = 1024 * 1024;
/** Largest id or name, in UTF-8 bytes; keeps every handshake message small. */
export const MAX_NAME_BYTES = 255;
const MIN_SECRET_BYTES = 16;

const CONFIG_KEYS: ReadonlySet<string> = new Set(['clusterName', 'nodeId', 'host', 'port', 'advertiseHost',
  'connectTimeoutMs', 'handshakeTimeoutMs', 'maxFrameBytes', 'outboundQueueBytes', 'reconnect', 'secret', 'tls',
  'insecure', 'maxPendingHandshakes', 'maxPendingHandshakesPerAddress', 'idleTimeoutMs', 'clock', 'logger', 'random']);
const RECONNECT_KEYS: ReadonlySet<string> = new Set(['initialDelayMs', 'maxDelayMs', 'multiplier', 'jitter']);
const TLS_KEYS: ReadonlySet<string> = new Set(['key', 'cert', 'ca', 'mutual', 'verifyHostname']);

function invalid(field: string, rule: string, value: unknown): InvalidArgumentError {
  let shown: string;
  try {
    shown = typeof value === 'string' ? `'${value}'` : String(JSON.stringify(value) ?? value);
  } catch {
    shown = typeof value;
  }
  return new InvalidArgumentError(`TransportConfig.${field} ${rule}, got ${shown}`);
}

function checkKeys(field: string, value: object, allowed: ReadonlySet<string>): void {
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) {
      throw new InvalidArgumentError(`TransportConfig${field} has no option '${key}'; ` +
        `known options are ${[...allowed].join(', ')}`);
    }
  }
}

function name(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || Buffer.byteLength(value) > MAX_NAME_BYTES) {
    throw invalid(field, `must be a non-empty string of at most ${MAX_NAME_BYTES} bytes`, value);
  }
  return value;
}

function number(field: string, value: unknown, min: number, max: number, unit: string, integer = true): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max ||
    (integer && !Number.isInteger(value))) {
    throw invalid(field, `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max} (${unit})`, value);
  }
  return value;
}

function pem(field: string, source: PemSource | undefined): Buffer {
  if (source !== null && typeof source === 'object' && 'file' in source && typeof source.file === 'string') {
    try {
      return readFileSync(source.file);
    } catch (err) {
      throw invalid(`${field}.file`, `must be a readable file (${(err as Error).message})`, source.file);
    }
  }
  if (source !== null && typeof source === 'object' && 'pem' in source &&
    (typeof source.pem === 'string' || source.pem instanceof Uint8Array) && source.pem.length > 0) {
    return Buffer.from(source.pem);
  }
  throw invalid(field, 'must be { file: path } or { pem: non-empty PEM text }', source);
}

function resolveTls(tls: TlsConfig): ResolvedTls {
  checkKeys('.tls', tls, TLS_KEYS);
  for (const flag of ['mutual', 'verifyHostname'] as const) {
    if (tls[flag] !== undefined && typeof tls[flag] !== 'boolean') throw invalid(`tls.${flag}`, 'must be a boolean', tls[flag]);
  }
  return {
    key: pem('tls.key', tls.key),
    cert: pem('tls.cert', tls.cert),
    ca: tls.ca === undefined ? undefined : pem('tls.ca', tls.ca),
    mutual: tls.mutual ?? true,
    verifyHostname: tls.verifyHostname ?? true,
  };
}

function resolveReconnect(reconnect: ReconnectConfig): Required<ReconnectConfig> {
  checkKeys('.reconnect', reconnect, RECONNECT_KEYS);
  const initialDelayMs = number('reconnect.initialDelayMs', reconnect.initialDelayMs ?? 100, 1, 3_600_000, 'milliseconds');
  const maxDelayMs = number('reconnect.maxDelayMs', reconnect.maxDelayMs ?? Math.max(10_000, initialDelayMs),
    initialDelayMs, 3_600_000, 'milliseconds, at least initialDelayMs');
  return {
    initialDelayMs,
    maxDelayMs,
    multiplier: number('reconnect.multiplier', reconnect.multiplier ?? 2, 1, 100, 'growth factor', false),
    jitter: number('reconnect.jitter', reconnect.jitter ?? 0.2, 0, 1, 'fraction of the delay', false),
  };
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/** True for a host only this machine can reach: 127.0.0.0/8, ::1 (also IPv4-mapped), localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.endsWith('.localhost') || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice('::ffff:'.length) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/** Validates `config` and fills in defaults; throws InvalidArgumentError naming the first wrong field. */
export function resolveTransportConfig(config: TransportConfig): ResolvedTransportConfig {
  if (config === null || typeof config !== 'object') {
    throw new InvalidArgumentError('TransportConfig must be an object with at least { clusterName }');
  }
  checkKeys('', config, CONFIG_KEYS);
  const host = config.host === undefined ? '127.0.0.1' : name('host', config.host);
  if (config.advertiseHost === undefined && isWildcard(host)) {
    throw invalid('advertiseHost', `must be set when host is the wildcard '${host}' (peers cannot dial it)`, undefined);
  }
  const maxFrameBytes = number('maxFrameBytes', config.maxFrameBytes ?? 16 * MiB, 1, 2 ** 32 - 2, 'bytes');
  const outboundQueueBytes = number('outboundQueueBytes', config.outboundQueueBytes ?? Math.max(32 * MiB, 2 * maxFrameBytes + 10),
    maxFrameBytes + 5, Number.MAX_SAFE_INTEGER, 'bytes, at least maxFrameBytes + 5');
  let secret: Buffer | undefined;
  if (config.secret !== undefined) {
    if (typeof config.secret !== 'string' && !(config.secret instanceof Uint8Array)) {
      throw invalid('secret', 'must be a string or Uint8Array', typeof config.secret);
    }
    secret = Buffer.from(config.secret);
    if (secret.length < MIN_SECRET_BYTES) {
      // Do not echo the secret itself into an error message that may end up in logs.
      throw invalid('secret', `must be at least ${MIN_SECRET_BYTES} bytes`, `${secret.length} bytes`);
    }
  }
  if (config.insecure !== undefined && typeof config.insecure !== 'boolean') {
    throw invalid('insecure', 'must be a boolean', config.insecure);
  }
  if (secret === undefined && config.tls === undefined && !isLoopbackHost(host) && config.insecure !== true) {
    throw new InvalidArgumentError(`TransportConfig.host '${host}' is not a loopback address and neither secret ` +
      'nor tls is set: anyone who can reach the port could message every actor. Set secret (the same on every ' +
      'node, at least 16 bytes) or tls, or set insecure: true to accept unauthenticated connections on purpose ' +
      '(an isolated, trusted network only)');
  }
  for (const fn of ['random'] as const) {
    if (config[fn] !== undefined && typeof config[fn] !== 'function') throw invalid(fn, 'must be a function', typeof config[fn]);
  }
  return {
    clusterName: name('clusterName', config.clusterName),
    nodeId: config.nodeId === undefined ? randomUUID() : name('nodeId', config.nodeId),
    host,
    port: number('port', config.port ?? 0, 0, 65535, 'TCP port'),
    advertiseHost: config.advertiseHost === undefined ? host : name('advertiseHost', config.advertiseHost),
    connectTimeoutMs: number('connectTimeoutMs', config.connectTimeoutMs ?? 5000, 1, 3_600_000, 'milliseconds'),
    handshakeTimeoutMs: number('handshakeTimeoutMs', config.handshakeTimeoutMs ?? 5000, 1, 3_600_000, 'milliseconds'),
    maxFrameBytes,
    outboundQueueBytes,
    reconnect: resolveReconnect(config.reconnect ?? {}),
    secret,
    tls: config.tls === undefined ? undefined : resolveTls(config.tls),
    insecure: secret === undefined && config.tls === undefined && !isLoopbackHost(host),
    maxPendingHandshakes: number('maxPendingHandshakes', config.maxPendingHandshakes ?? 256, 1, 1_000_000, 'connections'),
    maxPendingHandshakesPerAddress: number('maxPendingHandshakesPerAddress', config.maxPendingHandshakesPerAddress ?? 16,
      1, 1_000_000, 'connections'),
    idleTimeoutMs: number('idleTimeoutMs', config.idleTimeoutMs ?? 60_000, 1000, 86_400_000, 'milliseconds'),
    clock: config.clock ?? SystemClock.instance,
    logger: config.logger ?? consoleLogger,
    random: config.random ?? Math.random,
  };
}
