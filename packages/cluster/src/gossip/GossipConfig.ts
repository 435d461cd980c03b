// GossipConfig: the timing and limits of key-value gossip, as two presets that take overrides, validated
// when made (an InvalidArgumentError names the field).

import type { FieldRule } from '../internal/fieldRules';
import { resolveFields } from '../internal/fieldRules';

/** The fields of a GossipConfig. */
export interface GossipSettings {
  /**
   * Milliseconds between gossip rounds; each round sends pending deltas to gossipFanout random members.
   * Production 200 (memberlist's GossipInterval): an update reaches a 100-node cluster in about a second.
   * Development 50.
   */
  readonly gossipIntervalMs: number;
  /** Members each round sends to. Production 3 (memberlist's GossipNodes). */
  readonly gossipFanout: number;
  /**
   * Times each delta is sent: retransmitMult * ceil(log10(n + 1)), as SWIM's updates. Production 4.
   */
  readonly retransmitMult: number;
  /**
   * Milliseconds between push-pull anti-entropy rounds with one random member (digests, then the entries
   * either side lacks), which repair whatever the bounded epidemic missed. Production 10 000. Development 1000.
   */
  readonly pushPullIntervalMs: number;
  /**
   * Largest gossip frame, in bytes; deltas, digests and requests are split to stay under it, and one entry
   * must fit in it. Production 16 384: a frame never holds the connection for long, whatever the map's size.
   */
  readonly maxMessageBytes: number;
  /**
   * Milliseconds a deleted key's tombstone is kept (and gossiped) before it is forgotten. It must outlast the
   * time a delete takes to reach every node, or a node that missed it may bring the value back. Production
   * 300 000 (5 minutes, many push-pull rounds). Development 30 000.
   */
  readonly tombstoneTtlMs: number;
}

const ms = (min: number): FieldRule => ({ min, max: 86_400_000, unit: 'milliseconds' });

const RULES: Readonly<Record<keyof GossipSettings, FieldRule>> = {
  gossipIntervalMs: ms(1),
  gossipFanout: { min: 1, max: 64, unit: 'members' },
  retransmitMult: { min: 1, max: 100, unit: 'multiplier' },
  pushPullIntervalMs: ms(1),
  maxMessageBytes: { min: 512, max: 16 * 1024 * 1024, unit: 'bytes' },
  tombstoneTtlMs: ms(1),
};

const PRODUCTION: GossipSettings = {
  gossipIntervalMs: 200, gossipFanout: 3, retransmitMult: 4, pushPullIntervalMs: 10_000, maxMessageBytes: 16_384,
  tombstoneTtlMs: 300_000,
};

const DEVELOPMENT: GossipSettings = { ...PRODUCTION, gossipIntervalMs: 50, pushPullIntervalMs: 1_000, tombstoneTtlMs: 30_000 };

/** Validated gossip settings. Make one with `production()` or `development()`, with overrides. */
export class GossipConfig implements GossipSettings {
  readonly gossipIntervalMs!: number;
  readonly gossipFanout!: number;
  readonly retransmitMult!: number;
  readonly pushPullIntervalMs!: number;
  readonly maxMessageBytes!: number;
  readonly tombstoneTtlMs!: number;

  private constructor(settings: GossipSettings) {
    Object.assign(this, settings);
    Object.freeze(this);
  }

  static production(overrides: Partial<GossipSettings> = {}): GossipConfig {
    return new GossipConfig(resolveFields<GossipSettings & Record<string, number>>('GossipConfig', RULES, { ...PRODUCTION }, overrides));
  }

  static development(overrides: Partial<GossipSettings> = {}): GossipConfig {
    return new GossipConfig(resolveFields<GossipSettings & Record<string, number>>('GossipConfig', RULES, { ...DEVELOPMENT }, overrides));
  }
}
