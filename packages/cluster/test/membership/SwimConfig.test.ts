// SwimConfig presets and validation: memberlist's LAN figures, and errors that name the field.

import { InvalidArgumentError } from '@casty/core';
import { SwimConfig } from '../../src/membership/SwimConfig';

test('production() has memberlist LAN figures; development() is faster', () => {
  const p = SwimConfig.production();
  expect([p.probeIntervalMs, p.probeTimeoutMs, p.indirectChecks, p.suspicionMult, p.suspicionMaxTimeoutMult,
    p.retransmitMult, p.awarenessMaxMultiplier, p.pushPullIntervalMs]).toEqual([1000, 500, 3, 4, 6, 4, 8, 30000]);
  const d = SwimConfig.development();
  expect(d.probeIntervalMs).toBeLessThan(p.probeIntervalMs);
  expect(SwimConfig.development({ indirectChecks: 5 }).indirectChecks).toBe(5);
  expect(Object.isFrozen(p)).toBe(true);
});

test('a wrong field is an InvalidArgumentError naming it', () => {
  expect(() => SwimConfig.production({ probeIntervalMs: 0 })).toThrow(
    new InvalidArgumentError('SwimConfig.probeIntervalMs must be an integer from 1 to 3600000 (milliseconds), got 0'));
  expect(() => SwimConfig.production({ indirectChecks: 1.5 })).toThrow(/SwimConfig\.indirectChecks must be an integer/);
  expect(() => SwimConfig.production({ probeTimeoutMs: 1000 })).toThrow(/SwimConfig\.probeTimeoutMs \(1000 ms\) must be below probeIntervalMs/);
  expect(() => SwimConfig.production({ bogus: 1 } as never)).toThrow(/SwimConfig has no field 'bogus'/);
  expect(() => SwimConfig.production().with({ joinRetryMaxMs: 10 })).toThrow(/joinRetryMaxMs/);
});
