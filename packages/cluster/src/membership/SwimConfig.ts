// SwimConfig: the timing and limits of SWIM failure detection, as two presets that take overrides.
// production() carries memberlist's DefaultLANConfig figures (config.go), which are tuned for a LAN and
// proven in Consul and Nomad; development() is the same protocol faster, for tests and laptops. Every field
// is validated when the config is made, so a wrong value fails at the call, naming the field.

import { InvalidArgumentError } from '@casty/core';
import type { FieldRule } from '../internal/fieldRules';
import { resolveFields } from '../internal/fieldRules';

/** The fields of a SwimConfig. */
export interface SwimSettings {
  /**
   * Milliseconds between probes; each period this node probes one member. Production 1000 (memberlist LAN):
   * a failed node is probed by someone within about one period on average. Development 200.
   * Lifeguard stretches it by (health score + 1) while this node is unhealthy.
   */
  readonly probeIntervalMs: number;
  /**
   * Milliseconds to wait for the direct ack before asking others to probe indirectly. Production 500
   * (memberlist LAN: well above a LAN round trip, and half the period leaves time for the indirect probes).
   * Must be below probeIntervalMs. Development 100. Stretched by Lifeguard like the interval.
   */
  readonly probeTimeoutMs: number;
  /**
   * Members asked to probe a member that missed its direct ack. Production 3 (memberlist): a route problem
   * between two nodes does not get a healthy node suspected. Development 3. 0 disables indirect probes.
   */
  readonly indirectChecks: number;
  /**
   * Multiplier of the suspicion timeout: min = suspicionMult * max(1, log10(n)) * probeIntervalMs, so the
   * timeout grows slowly with the cluster (n members) as dissemination does. Production 4 (memberlist LAN).
   * Also sets how many independent confirmations drive the timeout to its minimum: suspicionMult - 2.
   */
  readonly suspicionMult: number;
  /**
   * The suspicion timeout starts at suspicionMaxTimeoutMult * min and shrinks toward min with each
   * independent confirmation (Lifeguard). Production 6 (memberlist): a lone, possibly wrong, suspicion
   * leaves the member ample time to refute.
   */
  readonly suspicionMaxTimeoutMult: number;
  /**
   * Times each membership update is piggybacked: retransmitMult * ceil(log10(n + 1)). Production 4
   * (memberlist LAN): enough for an update to reach every member with high probability.
   */
  readonly retransmitMult: number;
  /**
   * Lifeguard's local health score runs from 0 to awarenessMaxMultiplier - 1; probe interval and timeout are
   * multiplied by (score + 1). Production 8 (memberlist): a struggling node slows its probing up to 8x
   * rather than accuse healthy peers.
   */
  readonly awarenessMaxMultiplier: number;
  /**
   * Milliseconds between full-state push-pull syncs with one random member, which repair what piggybacking
   * missed (scaled up beyond 32 members, as memberlist). Production 30 000 (memberlist LAN). Development 5000.
   */
  readonly pushPullIntervalMs: number;
  /**
   * Largest probe frame (ping, ack, ...) with its piggybacked updates, in bytes. Production 1400 (memberlist's
   * UDP budget, one Ethernet packet): probes stay cheap however many updates are pending.
   */
  readonly maxPacketBytes: number;
  /**
   * Largest push-pull frame, in bytes; a larger member list is split into several frames. Production 65 536:
   * far below the transport's frame limit, so a 10 000-member list is a handful of frames, never one huge one.
   */
  readonly pushPullChunkBytes: number;
  /**
   * Milliseconds a dead or left member is remembered (and its death gossiped) before it is forgotten.
   * Production 30 000 (memberlist's GossipToTheDeadTime). Development 5000.
   */
  readonly deadMemberRetentionMs: number;
  /**
   * First wait, in milliseconds, before retrying a join that no seed answered; it doubles up to
   * joinRetryMaxMs, with jitter. Production 1000. Development 100.
   */
  readonly joinRetryInitialMs: number;
  /** Longest wait between join attempts, in milliseconds. Production 30 000. Development 2000. */
  readonly joinRetryMaxMs: number;
  /**
   * Milliseconds `leave()` keeps the node running after announcing it is leaving, so the announcement spreads
   * on its probes and acks. Production 3000 (a few periods). Development 600.
   */
  readonly leavePropagationMs: number;
  /**
   * Milliseconds between gossip rounds: besides riding on probes, pending membership updates are sent to
   * gossipNodes random members (and recently dead ones, so a member wrongly declared dead hears it and
   * refutes) every round (memberlist's GossipInterval). Production 200 (memberlist LAN). Development 50.
   */
  readonly gossipIntervalMs: number;
  /** Members each gossip round sends to. Production 3 (memberlist's GossipNodes). 0 disables gossip rounds. */
  readonly gossipNodes: number;
  /**
   * Milliseconds between attempts to reach one random member declared dead (a push-pull to its last
   * address), so two sides of a partition that outlasted the suspicion timeout find each other again (Serf's
   * reconnect). Production 30 000 (Serf's ReconnectInterval). Development 1000.
   */
  readonly reconnectIntervalMs: number;
  /**
   * Milliseconds a member declared dead is still tried by reconnect before it is given up. Production
   * 86 400 000 (24 hours, Serf's ReconnectTimeout). Development 600 000.
   */
  readonly reconnectTimeoutMs: number;
  /**
   * Lifeguard (local health, nacks, suspicion timeouts that start at their maximum and shrink with
   * confirmations, the buddy system). Production and development true. False is plain SWIM with a fixed
   * suspicion timeout (the minimum), kept for comparison: the simulation runs both side by side.
   */
  readonly lifeguard: boolean;
}

const ms = (min: number): FieldRule => ({ min, max: 3_600_000, unit: 'milliseconds' });
const count = (min: number, max: number, unit: string): FieldRule => ({ min, max, unit });

type NumericSettings = Omit<SwimSettings, 'lifeguard'>;

const RULES: Readonly<Record<keyof NumericSettings, FieldRule>> = {
  probeIntervalMs: ms(1),
  probeTimeoutMs: ms(1),
  indirectChecks: count(0, 64, 'members'),
  suspicionMult: count(1, 100, 'multiplier'),
  suspicionMaxTimeoutMult: count(1, 100, 'multiplier'),
  retransmitMult: count(1, 100, 'multiplier'),
  awarenessMaxMultiplier: count(1, 100, 'multiplier'),
  pushPullIntervalMs: ms(1),
  maxPacketBytes: count(512, 16 * 1024 * 1024, 'bytes'),
  pushPullChunkBytes: count(512, 16 * 1024 * 1024, 'bytes'),
  deadMemberRetentionMs: ms(0),
  joinRetryInitialMs: ms(1),
  joinRetryMaxMs: ms(1),
  leavePropagationMs: ms(0),
  gossipIntervalMs: ms(1),
  gossipNodes: count(0, 64, 'members'),
  reconnectIntervalMs: ms(1),
  reconnectTimeoutMs: { min: 0, max: 30 * 86_400_000, unit: 'milliseconds' },
};

const PRODUCTION: SwimSettings = {
  probeIntervalMs: 1_000, probeTimeoutMs: 500, indirectChecks: 3, suspicionMult: 4, suspicionMaxTimeoutMult: 6,
  retransmitMult: 4, awarenessMaxMultiplier: 8, pushPullIntervalMs: 30_000, maxPacketBytes: 1_400,
  pushPullChunkBytes: 65_536, deadMemberRetentionMs: 30_000, joinRetryInitialMs: 1_000, joinRetryMaxMs: 30_000,
  leavePropagationMs: 3_000, gossipIntervalMs: 200, gossipNodes: 3, reconnectIntervalMs: 30_000,
  reconnectTimeoutMs: 86_400_000, lifeguard: true,
};

const DEVELOPMENT: SwimSettings = {
  ...PRODUCTION, probeIntervalMs: 200, probeTimeoutMs: 100, pushPullIntervalMs: 5_000,
  deadMemberRetentionMs: 5_000, joinRetryInitialMs: 100, joinRetryMaxMs: 2_000, leavePropagationMs: 600,
  gossipIntervalMs: 50, reconnectIntervalMs: 1_000, reconnectTimeoutMs: 600_000,
};

/** Validated SWIM settings. Make one with `production()` or `development()`, with overrides. */
export class SwimConfig implements SwimSettings {
  readonly probeIntervalMs!: number;
  readonly probeTimeoutMs!: number;
  readonly indirectChecks!: number;
  readonly suspicionMult!: number;
  readonly suspicionMaxTimeoutMult!: number;
  readonly retransmitMult!: number;
  readonly awarenessMaxMultiplier!: number;
  readonly pushPullIntervalMs!: number;
  readonly maxPacketBytes!: number;
  readonly pushPullChunkBytes!: number;
  readonly deadMemberRetentionMs!: number;
  readonly joinRetryInitialMs!: number;
  readonly joinRetryMaxMs!: number;
  readonly leavePropagationMs!: number;
  readonly gossipIntervalMs!: number;
  readonly gossipNodes!: number;
  readonly reconnectIntervalMs!: number;
  readonly reconnectTimeoutMs!: number;
  readonly lifeguard!: boolean;

  private constructor(settings: SwimSettings) {
    Object.assign(this, settings);
    Object.freeze(this);
  }

  /** memberlist's LAN figures: probe every 1 s, ack timeout 500 ms, 3 indirect probes, suspicion multiplier 4. */
  static production(overrides: Partial<SwimSettings> = {}): SwimConfig {
    return SwimConfig.make(PRODUCTION, overrides);
  }

  /** The same protocol five times faster (probe every 200 ms), for tests and development machines. */
  static development(overrides: Partial<SwimSettings> = {}): SwimConfig {
    return SwimConfig.make(DEVELOPMENT, overrides);
  }

  /** This config with some fields replaced (validated again). */
  with(overrides: Partial<SwimSettings>): SwimConfig {
    return SwimConfig.make(this, overrides);
  }

  private static make(defaults: SwimSettings, overrides: Partial<SwimSettings>): SwimConfig {
    if (overrides === null || typeof overrides !== 'object') {
      throw new InvalidArgumentError(`SwimConfig overrides must be an object, got ${String(overrides)}`);
    }
    const { lifeguard = defaults.lifeguard, ...numeric } = overrides;
    if (typeof lifeguard !== 'boolean') {
      throw new InvalidArgumentError(`SwimConfig.lifeguard must be true or false, got ${String(lifeguard)}`);
    }
    const { lifeguard: _unused, ...numericDefaults } = defaults;
    const s = {
      ...resolveFields<NumericSettings & Record<string, number>>('SwimConfig', RULES,
        { ...numericDefaults } as NumericSettings & Record<string, number>, numeric),
      lifeguard,
    };
    if (s.probeTimeoutMs >= s.probeIntervalMs) {
      throw new InvalidArgumentError(`SwimConfig.probeTimeoutMs (${s.probeTimeoutMs} ms) must be below ` +
        `probeIntervalMs (${s.probeIntervalMs} ms): indirect probes happen in the rest of the period`);
    }
    if (s.joinRetryMaxMs < s.joinRetryInitialMs) {
      throw new InvalidArgumentError(`SwimConfig.joinRetryMaxMs (${s.joinRetryMaxMs} ms) must be at least ` +
        `joinRetryInitialMs (${s.joinRetryInitialMs} ms)`);
    }
    return new SwimConfig(s);
  }
}
