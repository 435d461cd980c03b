// Delays past what one Node timer takes (2^31 - 1 ms): Node would run such a timer after 1 ms with a
// TimeoutOverflowWarning, so a pending ask re-armed its timer about 800 times a second. Ask timeouts are
// bounded at the call (InvalidArgumentError naming the limit), and SystemClock chains timers for longer delays.

import { Actor, ActorSystem, InvalidArgumentError, SystemClock } from '@casty/core';
import type { Context } from '@casty/core';
import { MAX_TIMER_DELAY_MS } from '@casty/core/internal';
import { quietSystem } from './fixtures/recording';

class Echo extends Actor<unknown> {
  override receive(msg: string, ctx: Context<unknown>): void {
    if (msg !== 'ignore') ctx.reply(msg);
  }
}

describe('ask timeouts are bounded by 2^31 - 1 ms', () => {
  test('MAX_TIMER_DELAY_MS is 2^31 - 1', () => {
    expect(MAX_TIMER_DELAY_MS).toBe(2 ** 31 - 1);
  });

  test('ActorSystem.create refuses askTimeoutMs over the limit, naming it', () => {
    expect(() => ActorSystem.create({ askTimeoutMs: 2 ** 31 })).toThrow(InvalidArgumentError);
    expect(() => ActorSystem.create({ askTimeoutMs: 2 ** 31 })).toThrow(/askTimeoutMs must be .* at most 2147483647 .*got 2147483648/);
    expect(() => ActorSystem.create({ askTimeoutMs: Infinity })).toThrow(/at most 2147483647/);
  });

  test('a local ask with a timeout over the limit is an InvalidArgumentError at the call, leaving nothing pending', async () => {
    await using system = quietSystem();
    const echo = await system.spawn(Echo);
    const error = await echo.ask('hi', { timeout: 2 ** 31 }).then(() => undefined, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error?.message).toMatch(/^ask\(\/user\/\$0\): timeout must be .* at most 2147483647 \(2\^31 - 1, about 24.8 days\), got 2147483648$/);
    expect(system.pendingAsks).toBe(0);
  });

  test('a local ask with the longest allowed timeout is answered, and no Node timer is armed past the limit', async () => {
    const clock = SystemClock.instance;
    const armed: number[] = [];
    const spy = jest.spyOn(clock, 'setTimeout').mockImplementation(function (this: SystemClock, fn, delay) {
      armed.push(delay);
      return SystemClock.prototype.setTimeout.call(this, fn, delay);
    });
    try {
      const system = quietSystem({ askTimeoutMs: MAX_TIMER_DELAY_MS });
      const echo = await system.spawn(Echo);
      expect(await echo.ask('hi')).toBe('hi');
      const ignored = echo.ask('ignore').catch((e: unknown) => e);
      expect(await echo.ask('again', { timeout: MAX_TIMER_DELAY_MS })).toBe('again');
      expect(system.pendingAsks).toBe(1);
      await system.shutdown();
      await ignored;
      expect(armed.length).toBeGreaterThan(0);
      expect(armed.every((d) => d <= MAX_TIMER_DELAY_MS)).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('SystemClock with delays over 2^31 - 1 ms', () => {
  test('a real timer past the limit is not run after 1 ms (Node clamps a longer delay to 1 ms)', async () => {
    let fired = false;
    const clock = SystemClock.instance;
    const handle = clock.setTimeout(() => (fired = true), 2 ** 31 + 1_000);
    clock.setKeepAlive(handle, true);
    clock.setKeepAlive(handle, false);
    // Not a wait for something to happen: Node runs timers in deadline order, so once a 2 ms timer armed after
    // it has run, the long one would have run too had it been clamped to 1 ms.
    await new Promise((resolve) => clock.setTimeout(() => resolve(undefined), 2));
    expect(fired).toBe(false);
    clock.clearTimeout(handle);
  });

  describe('on fake timers', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    test('fires once, at its time, arming no Node timer past the limit', () => {
      const delays: number[] = [];
      const realSetTimeout = globalThis.setTimeout;
      const spy = jest.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, delay: number) => {
        delays.push(delay);
        return realSetTimeout(fn, delay);
      }) as typeof setTimeout);
      try {
        const fired: number[] = [];
        const start = performance.now();
        SystemClock.instance.setTimeout(() => fired.push(performance.now() - start), 2 * MAX_TIMER_DELAY_MS + 5_000);
        jest.advanceTimersByTime(MAX_TIMER_DELAY_MS);
        expect(fired).toEqual([]);
        jest.advanceTimersByTime(MAX_TIMER_DELAY_MS);
        expect(fired).toEqual([]);
        jest.advanceTimersByTime(4_999);
        expect(fired).toEqual([]);
        jest.advanceTimersByTime(1);
        expect(fired).toEqual([2 * MAX_TIMER_DELAY_MS + 5_000]);
        expect(delays.length).toBe(3); // two links of the chain, then the rest
        expect(delays.every((d) => d <= MAX_TIMER_DELAY_MS)).toBe(true);
      } finally {
        spy.mockRestore();
      }
    });

    test('clearTimeout cancels a long timer before and after its first link', () => {
      let fired = 0;
      const early = SystemClock.instance.setTimeout(() => fired++, MAX_TIMER_DELAY_MS + 10);
      const late = SystemClock.instance.setTimeout(() => fired++, MAX_TIMER_DELAY_MS + 10);
      SystemClock.instance.clearTimeout(early);
      jest.advanceTimersByTime(MAX_TIMER_DELAY_MS + 1);
      SystemClock.instance.clearTimeout(late);
      jest.advanceTimersByTime(MAX_TIMER_DELAY_MS);
      expect(fired).toBe(0);
      expect(jest.getTimerCount()).toBe(0);
    });

    test('an actor timer past the limit is delivered at its time, not after 1 ms', async () => {
      const seen: string[] = [];
      class Sleeper extends Actor<unknown> {
        override receive(msg: string, ctx: Context<unknown>): void {
          if (msg === 'start') ctx.timers.startSingleTimer('wake', 'wake', MAX_TIMER_DELAY_MS + 60_000);
          else seen.push(msg);
        }
      }
      const system = quietSystem();
      const sleeper = await system.spawn(Sleeper);
      await sleeper.send('start');
      await jest.advanceTimersByTimeAsync(60_000);
      expect(seen).toEqual([]);
      await jest.advanceTimersByTimeAsync(MAX_TIMER_DELAY_MS);
      expect(seen).toEqual(['wake']);
      await system.shutdown();
    });
  });
});
