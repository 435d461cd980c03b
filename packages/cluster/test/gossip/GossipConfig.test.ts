// GossipConfig presets and validation naming the field.

import { GossipConfig } from '../../src/gossip/GossipConfig';

test('presets, overrides, and errors naming the field', () => {
  expect(GossipConfig.production()).toMatchObject({ gossipIntervalMs: 200, gossipFanout: 3, maxMessageBytes: 16_384 });
  expect(GossipConfig.development().gossipIntervalMs).toBeLessThan(200);
  expect(GossipConfig.development({ gossipFanout: 5 }).gossipFanout).toBe(5);
  expect(() => GossipConfig.production({ maxMessageBytes: 100 })).toThrow(
    'GossipConfig.maxMessageBytes must be an integer from 512 to 16777216 (bytes), got 100');
});
