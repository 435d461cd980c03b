import { ManualClock } from '@casty/core/testing';

describe('ManualClock', () => {
  test('fires timers in time order, then in the order they were set; cancelled ones never fire', async () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('c@30'), 30);
    clock.setTimeout(() => fired.push('a@10'), 10);
    const cancelled = clock.setTimeout(() => fired.push('x@10'), 10);
    clock.setTimeout(() => fired.push('b@10'), 10);
    clock.clearTimeout(cancelled);
    expect(clock.pendingTimers).toBe(3);
    await clock.advance(10);
    expect(fired).toEqual(['a@10', 'b@10']);
    expect(clock.now()).toBe(10);
    await clock.advance(100);
    expect(fired).toEqual(['a@10', 'b@10', 'c@30']);
    expect(clock.now()).toBe(110);
    expect(clock.pendingTimers).toBe(0);
  });

  test('a timer set by a firing timer fires within the same advance when it falls due', async () => {
    const clock = new ManualClock();
    const at: number[] = [];
    const tick = (): void => { at.push(clock.now()); if (at.length < 5) clock.setTimeout(tick, 100); };
    clock.setTimeout(tick, 100);
    await clock.advance(450);
    expect(at).toEqual([100, 200, 300, 400]);
    clock.advanceSync(100);
    expect(at).toEqual([100, 200, 300, 400, 500]);
  });

  test('keeps order across many timers (heap)', () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    const delays = Array.from({ length: 5_000 }, (_, i) => (i * 7919) % 1000);
    delays.forEach((d, i) => clock.setTimeout(() => fired.push(d * 10_000 + i), d));
    clock.advanceSync(1_000);
    expect(fired).toEqual([...fired].sort((a, b) => a - b));
    expect(fired).toHaveLength(5_000);
  });

  test('runAll stops a timer that reschedules itself forever', async () => {
    const clock = new ManualClock();
    const forever = (): void => { clock.setTimeout(forever, 1); };
    clock.setTimeout(forever, 1);
    await expect(clock.runAll(50)).rejects.toThrow(/reschedules itself forever/);
  });
});
