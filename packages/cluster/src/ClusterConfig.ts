// ClusterConfig: how a clustered node behaves (timeouts, security, limits, reconnecting), as two presets,
// production() and development(), that take overrides. Every field is validated when the config is made,
// so a wrong option fails at the call with an InvalidArgumentError naming the field, not at the first connect.
// Where a node listens (host, port, node id, seeds) is given to `clustered()`, not here.

import { InvalidArgumentError } from '@casty/core';
import type { Logger } from '@casty/core';
import { checkLogger } from '@casty/core/internal';
import { parseDowning } from './downing/DowningConfig';
import type { DownAction, Downing, DowningSettings } from './downing/DowningConfig';
import { GossipConfig } from './gossip/GossipConfig';
import type { GossipSettings } from './gossip/GossipConfig';
import { SwimConfig } from './membership/SwimConfig';
import type { SwimSettings } from './membership/SwimConfig';
import { resolveTransportConfig } from './transport/TransportConfig';
import type { ReconnectConfig, TlsConfig, TransportConfig } from './transport/TransportConfig';

/** The fields of a ClusterConfig; each is optional and falls back to the preset's value. */
export interface ClusterConfigOptions {
  /** Name of the cluster; a node with another name is refused in the handshake. 1-255 bytes. Default 'casty'. */
  readonly clusterName?: string;
  /**
   * Milliseconds a TCP (and TLS) connect to a peer may take before the attempt counts as failed (it is retried
   * with backoff). Production 5000: rides out a lost SYN (retransmitted after 1 s, then 3 s). Development 2000.
   */
  readonly connectTimeoutMs?: number;
  /**
   * Milliseconds from connected to handshake done (version, cluster name, node ids, secret proof). Production
   * 5000: four small messages; a peer silent that long is not a Casty node or is stuck. Development 2000.
   */
  readonly handshakeTimeoutMs?: number;
  /**
   * Default timeout of `ask` (local and remote) and the bound of a remote `lookup`, in milliseconds.
   * Production 10 000: rides out a peer's GC pause or a busy mailbox; an ask whose node's connection dies fails
   * at once anyway (NodeUnavailableError), so this only bounds slow or silent actors. Development 5000, as a
   * local system. Pass `{ timeout }` to `ask` for a tighter bound on latency-sensitive calls.
   */
  readonly askTimeoutMs?: number;
  /**
   * How long a remote `lookup` of a name the gossiped registry does not hold waits for each node's answer, in
   * milliseconds; a node that does not answer in time counts as not having it. Default 2000 or askTimeoutMs,
   * whichever is smaller: one stopped or cut-off member makes a miss that much slower, not askTimeoutMs slower.
   */
  readonly lookupTimeoutMs?: number;
  /**
   * Shared cluster secret, at least 16 bytes: both sides of every connection prove they know it (HMAC over
   * fresh nonces; it is never sent) before any message is read. Default none. Set it on every node, or none.
   */
  readonly secret?: string | Uint8Array;
  /**
   * TLS for every connection (key, cert, ca, mutual, verifyHostname; see TlsConfig). Mutual by default: each
   * side verifies the other's certificate against `ca`. Default none: plain TCP.
   */
  readonly tls?: TlsConfig;
  /**
   * Explicit opt-out of authentication for a node bound to a non-loopback host: without `secret` or `tls`
   * such a node refuses to start (InvalidArgumentError) unless this is true, since anyone who can reach its
   * port could message every actor. Only for an isolated, trusted network; a warning is logged at start.
   * Default false. A loopback host (127.0.0.0/8, ::1, localhost) needs neither credentials nor this flag.
   */
  readonly insecure?: boolean;
  /**
   * Inbound connections accepted but not yet through the handshake (TLS included), in total; past it the
   * oldest pending one from an address that is not a known member is closed. Default 256 in both presets.
   */
  readonly maxPendingHandshakes?: number;
  /**
   * Inbound connections pending the handshake from one IP address (IPv6: one /64) that is not a known member;
   * past it that address's oldest pending one is closed. Default 16 in both presets.
   */
  readonly maxPendingHandshakesPerAddress?: number;
  /**
   * Milliseconds a connection may stay idle, or stalled inside a frame, before it is closed. Members talk every
   * second or so (SWIM, gossip). Default 60 000 in both presets; at least 1000.
   */
  readonly idleTimeoutMs?: number;
  /**
   * Largest encoded message (frame payload), in bytes. Default 16 MiB: large enough for any sensible message,
   * small enough that a corrupt length field cannot make a node allocate gigabytes. The same on every node.
   */
  readonly maxFrameBytes?: number;
  /**
   * Bytes that may wait to be written to one peer; past it, `send` rejects with TransportBackpressureError.
   * Default: 32 MiB or twice maxFrameBytes, whichever is larger (one maximum frame in flight, one waiting).
   */
  readonly outboundQueueBytes?: number;
  /**
   * Backoff between reconnect attempts to a lost peer. Production: 100 ms doubling to 10 s (a peer gone for
   * minutes costs one dial per 10 s). Development: 50 ms doubling to 1 s (a restarted node is found at once).
   */
  readonly reconnect?: ReconnectConfig;
  /**
   * Where the system and the transport report problems. Default: the console (warnings and errors). Inbound
   * connections refused before their handshake are logged one by one at debug level only, and at warn level
   * as the first one plus one summary line per 10 s, so a flood cannot fill the log.
   */
  readonly logger?: Logger;
  /**
   * Failure detection and membership (SWIM with Lifeguard): a SwimConfig, or fields over the preset's own
   * (SwimConfig.production() for production(), .development() for development()). See SwimSettings.
   */
  readonly swim?: SwimConfig | Partial<SwimSettings>;
  /**
   * The gossiped key-value state that carries cluster-wide names: a GossipConfig, or fields over the
   * preset's own. See GossipSettings.
   */
  readonly gossip?: GossipConfig | Partial<GossipSettings>;
  /**
   * Split-brain protection: which side of a network partition keeps hosting shards and singletons. Default
   * 'keep-majority' (the side with more than half of the last agreed membership; on an exact half, the side with
   * its lowest node id); { strategy: 'static-quorum', size } for a cluster of known size; 'off' for development
   * only (logged as unsafe at start: both sides then host). See the README's "Split-brain protection".
   */
  readonly downing?: Downing;
  /**
   * What a node without quorum does: 'stop-hosting' (default: its entities and singletons stop, messages to them
   * fail with MinorityPartitionError, and it hosts again once the partition heals) or 'shutdown' (its system
   * shuts down, for an orchestrator to restart it).
   */
  readonly downAction?: DownAction;
}

const KNOWN_OPTIONS: ReadonlySet<string> = new Set(['clusterName', 'connectTimeoutMs', 'handshakeTimeoutMs',
  'askTimeoutMs', 'lookupTimeoutMs', 'secret', 'tls', 'insecure', 'maxPendingHandshakes', 'maxPendingHandshakesPerAddress',
  'idleTimeoutMs', 'maxFrameBytes', 'outboundQueueBytes', 'reconnect', 'logger', 'swim', 'gossip', 'downing', 'downAction']);

const PRODUCTION = {
  name: 'production',
  connectTimeoutMs: 5_000, handshakeTimeoutMs: 5_000, askTimeoutMs: 10_000, idleTimeoutMs: 60_000,
  reconnect: { initialDelayMs: 100, maxDelayMs: 10_000 },
} as const;

const DEVELOPMENT = {
  name: 'development',
  connectTimeoutMs: 2_000, handshakeTimeoutMs: 2_000, askTimeoutMs: 5_000, idleTimeoutMs: 60_000,
  reconnect: { initialDelayMs: 50, maxDelayMs: 1_000 },
} as const;

/** Where a node listens, given to `transportConfig`. */
export interface NodeEndpoint {
  /** This node's id, unique in the cluster. Default: a random UUID (a restarted node is then a new node). */
  readonly nodeId?: string | undefined;
  /** Interface to bind. Default '127.0.0.1'. */
  readonly host?: string | undefined;
  /** Port to bind; 0 picks a free one. Default 0. */
  readonly port?: number | undefined;
  /** Host peers dial, when it differs from `host` (required when `host` is '0.0.0.0' or '::'). */
  readonly advertiseHost?: string | undefined;
}

/** A validated cluster configuration. Make one with `production()` or `development()`, optionally with overrides. */
export class ClusterConfig {
  readonly clusterName: string;
  readonly connectTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly askTimeoutMs: number;
  readonly lookupTimeoutMs: number;
  readonly secret: string | Uint8Array | undefined;
  readonly tls: TlsConfig | undefined;
  readonly insecure: boolean;
  readonly maxPendingHandshakes: number;
  readonly maxPendingHandshakesPerAddress: number;
  readonly idleTimeoutMs: number;
  readonly maxFrameBytes: number;
  readonly outboundQueueBytes: number | undefined;
  readonly reconnect: ReconnectConfig;
  /** The logger given, or undefined for the console defaults of the system and the transport. */
  readonly logger: Logger | undefined;
  /** Failure detection and membership settings. */
  readonly swim: SwimConfig;
  /** Settings of the gossiped state (cluster-wide names). */
  readonly gossip: GossipConfig;
  /** Split-brain protection: the downing strategy and the action of a node without quorum. */
  readonly downing: DowningSettings;

  private constructor(preset: typeof PRODUCTION | typeof DEVELOPMENT, options: ClusterConfigOptions | undefined) {
    const o = checkOptions(options);
    this.clusterName = o.clusterName ?? 'casty';
    this.connectTimeoutMs = o.connectTimeoutMs ?? preset.connectTimeoutMs;
    this.handshakeTimeoutMs = o.handshakeTimeoutMs ?? preset.handshakeTimeoutMs;
    this.askTimeoutMs = o.askTimeoutMs ?? preset.askTimeoutMs;
    this.lookupTimeoutMs = o.lookupTimeoutMs ?? Math.min(2_000, typeof this.askTimeoutMs === 'number' ? this.askTimeoutMs : 2_000);
    this.secret = o.secret;
    this.tls = o.tls;
    this.insecure = o.insecure ?? false;
    this.maxPendingHandshakes = o.maxPendingHandshakes ?? 256;
    this.maxPendingHandshakesPerAddress = o.maxPendingHandshakesPerAddress ?? 16;
    this.idleTimeoutMs = o.idleTimeoutMs ?? preset.idleTimeoutMs;
    this.maxFrameBytes = o.maxFrameBytes ?? 16 * 1024 * 1024;
    this.outboundQueueBytes = o.outboundQueueBytes;
    this.reconnect = mergeReconnect(preset.reconnect, o.reconnect);
    this.logger = o.logger;
    this.swim = o.swim instanceof SwimConfig ? o.swim : SwimConfig[preset.name](o.swim ?? {});
    this.gossip = o.gossip instanceof GossipConfig ? o.gossip : GossipConfig[preset.name](o.gossip ?? {});
    this.downing = parseDowning(o.downing, o.downAction);
    if (typeof this.askTimeoutMs !== 'number' || !Number.isInteger(this.askTimeoutMs) || this.askTimeoutMs < 1 ||
      this.askTimeoutMs > 3_600_000) {
      throw new InvalidArgumentError(`ClusterConfig.askTimeoutMs must be an integer from 1 to 3600000 ` +
        `(milliseconds), got ${String(this.askTimeoutMs)}`);
    }
    if (typeof this.lookupTimeoutMs !== 'number' || !Number.isInteger(this.lookupTimeoutMs) || this.lookupTimeoutMs < 1 ||
      this.lookupTimeoutMs > 3_600_000) {
      throw new InvalidArgumentError(`ClusterConfig.lookupTimeoutMs must be an integer from 1 to 3600000 ` +
        `(milliseconds), got ${String(this.lookupTimeoutMs)}`);
    }
    if (this.logger !== undefined) checkLogger(this.logger, 'ClusterConfig.logger');
    try {
      resolveTransportConfig(this.transportConfig({}));
    } catch (error) {
      if (!(error instanceof InvalidArgumentError)) throw error;
      throw new InvalidArgumentError(error.message.replace(/^TransportConfig/, 'ClusterConfig'));
    }
  }

  /** Settings for real deployments: tolerant timeouts, patient reconnects. */
  static production(options?: ClusterConfigOptions): ClusterConfig {
    return new ClusterConfig(PRODUCTION, options);
  }

  /** Settings for a laptop and tests: short timeouts, fast reconnects. */
  static development(options?: ClusterConfigOptions): ClusterConfig {
    return new ClusterConfig(DEVELOPMENT, options);
  }

  /** `config` itself, or its fields over the production preset (the default when none is given). */
  static from(config?: ClusterConfig | ClusterConfigOptions): ClusterConfig {
    return config instanceof ClusterConfig ? config : ClusterConfig.production(config);
  }

  /** The TcpTransport options for a node listening at `node`. */
  transportConfig(node: NodeEndpoint): TransportConfig {
    return {
      clusterName: this.clusterName,
      connectTimeoutMs: this.connectTimeoutMs,
      handshakeTimeoutMs: this.handshakeTimeoutMs,
      maxFrameBytes: this.maxFrameBytes,
      reconnect: this.reconnect,
      insecure: this.insecure,
      maxPendingHandshakes: this.maxPendingHandshakes,
      maxPendingHandshakesPerAddress: this.maxPendingHandshakesPerAddress,
      idleTimeoutMs: this.idleTimeoutMs,
      ...defined({ logger: this.logger, outboundQueueBytes: this.outboundQueueBytes, secret: this.secret, tls: this.tls }),
      ...defined({ nodeId: node.nodeId, host: node.host, port: node.port, advertiseHost: node.advertiseHost }),
    };
  }
}

function checkOptions(options: ClusterConfigOptions | undefined): ClusterConfigOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidArgumentError(`ClusterConfig options must be an object of fields, got ${String(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new InvalidArgumentError(`ClusterConfig has no option '${key}'; known options are ${[...KNOWN_OPTIONS].join(', ')}`);
    }
  }
  return options;
}

function mergeReconnect(preset: ReconnectConfig, options: ReconnectConfig | undefined): ReconnectConfig {
  if (options === undefined) return preset;
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError(`ClusterConfig.reconnect must be an object (see ReconnectConfig), got ${String(options)}`);
  }
  const merged = { ...preset, ...defined(options) };
  // A larger first delay alone raises the ceiling with it, rather than contradicting the preset's ceiling.
  if (options.maxDelayMs === undefined && typeof options.initialDelayMs === 'number') {
    merged.maxDelayMs = Math.max(preset.maxDelayMs ?? 0, options.initialDelayMs);
  }
  return merged;
}

/** `fields` without the ones that are undefined (optional properties must be absent, not undefined). */
function defined<T extends object>(fields: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
  return out as { [K in keyof T]?: Exclude<T[K], undefined> };
}
