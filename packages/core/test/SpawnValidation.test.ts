// What spawn accepts: only classes that extend Actor (from any copy of @casty/core), and names within the
// documented rule (1 to 255 UTF-8 bytes, no '/', whitespace or control characters, no leading '$').
// Wrong input is an InvalidArgumentError at the call, for system.spawn and ctx.spawn alike.

import { Actor, ExtensionKey, InvalidArgumentError } from '@casty/core';
import type { Context, SystemExtension , ActorSystem} from '@casty/core';
import { quietSystem } from './fixtures/recording';

class Echo extends Actor<unknown> {
  override receive(msg: string, ctx: Context<unknown>): void {
    ctx.reply(msg);
  }
}

/** Spawns what it is sent as a child and replies with the outcome: 'ok', or the error's class and message. */
class Parent extends Actor<unknown> {
  override async receive(msg: { cls: unknown; name?: string }, ctx: Context<unknown>): Promise<void> {
    try {
      await ctx.spawn(msg.cls as typeof Echo, msg.name === undefined ? undefined : { name: msg.name });
      ctx.reply('ok');
    } catch (error) {
      ctx.reply(`${(error as Error).name}: ${(error as Error).message}`);
    }
  }
}

async function rejection(spawning: Promise<unknown>): Promise<Error> {
  return spawning.then(() => { throw new Error('spawn succeeded'); }, (e: unknown) => e as Error);
}

describe('spawn accepts only actor classes', () => {
  function plainFunction(this: unknown): void {}
  const arrow = (): void => undefined;
  class NotAnActor {
    receive(): void {}
  }
  const cases: Array<[string, unknown, RegExp]> = [
    ['a plain function', plainFunction, /the plain function plainFunction/],
    ['an arrow function', arrow, /the arrow \(or async\) function arrow/],
    ['a class that does not extend Actor', NotAnActor, /the class NotAnActor, which does not extend Actor/],
    ['an object', { receive() {} }, /got object/],
    ['undefined', undefined, /got undefined/],
  ];

  test.each(cases)('system.spawn of %s is an InvalidArgumentError naming it', async (_what, cls, named) => {
    await using system = quietSystem();
    const error = await rejection(system.spawn(cls as typeof Echo));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toMatch(named);
    expect(error.message).toContain('needs a class that extends Actor');
    expect(system.lookupLocal('/user/$0')).toBeUndefined(); // nothing was created
  });

  test.each(cases)('ctx.spawn of %s is an InvalidArgumentError naming it', async (_what, cls, named) => {
    await using system = quietSystem();
    const parent = await system.spawn(Parent);
    const outcome = await parent.ask({ cls });
    expect(outcome).toMatch(/^InvalidArgumentError: spawn\(\) needs a class that extends Actor/);
    expect(outcome).toMatch(named);
    expect(await parent.ask({ cls: Echo })).toBe('ok');
  });

  test('a subclass of Actor from another copy of @casty/core is spawned', async () => {
    let OtherActor: typeof Actor | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      OtherActor = (require('@casty/core') as { Actor: typeof Actor }).Actor;
    });
    expect(OtherActor).toBeDefined();
    expect(OtherActor).not.toBe(Actor); // really a second copy
    class Foreign extends (OtherActor as unknown as typeof Actor<unknown>) {
      override receive(msg: string, ctx: Context<unknown>): void {
        ctx.reply(`foreign ${msg}`);
      }
    }
    expect(Foreign.prototype instanceof Actor).toBe(false);
    await using system = quietSystem();
    const ref = await system.spawn(Foreign, { name: 'foreign' });
    expect(await ref.ask('hi')).toBe('foreign hi');
  });
});

describe('actor names', () => {
  let system: ActorSystem;
  beforeEach(() => {
    system = quietSystem();
  });
  afterEach(() => system.shutdown());

  test('the longest allowed name (255 UTF-8 bytes, multi-byte characters counted as bytes) is accepted', async () => {
    const ascii = 'n'.repeat(255);
    expect((await system.spawn(Echo, { name: ascii })).path).toBe(`/user/${ascii}`);
    const accented = 'é'.repeat(127) + 'x'; // 254 + 1 bytes
    await expect(system.spawn(Echo, { name: accented })).resolves.toBeDefined();
    expect(system.lookupLocal(accented)).toBeDefined();
    await expect(system.spawn(Echo, { name: 'order-42.eu_west:primary@v2' })).resolves.toBeDefined();
  });

  test.each([
    ['256 ASCII characters', 'n'.repeat(256), /256 UTF-8 bytes, over the limit of 255/],
    ['128 two-byte characters', 'é'.repeat(128), /256 UTF-8 bytes, over the limit of 255/],
    ['30 000 characters', 'x'.repeat(30_000), /30000 UTF-8 bytes, over the limit of 255/],
    ['a space', 'my actor', /holds U\+0020 at index 2/],
    ['a newline', 'a\nb', /holds U\+000A at index 1/],
    ['a NUL', 'a\u0000', /holds U\+0000 at index 1/],
    ['a zero-width space', 'a\u200bb', /holds U\+200B at index 1/],
    ['a slash', 'a/b', /holds '\/' at index 1/],
    ['a leading $', '$x', /starts with '\$'/],
    ['nothing', '', /it is empty/],
  ])('a name with %s is an InvalidArgumentError stating the rule', async (_what, name, problem) => {
    const error = await rejection(system.spawn(Echo, { name }));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toMatch(problem);
    expect(error.message).toContain("An actor name is 1 to 255 UTF-8 bytes with no '/', no whitespace");
    expect(error.message.length).toBeLessThan(600); // a 30 000-character name is not echoed whole
  });

  test('a name that is not a string is an InvalidArgumentError', async () => {
    const error = await rejection(system.spawn(Echo, { name: 42 as unknown as string }));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toMatch(/it is a number, not a string/);
  });

  test('ctx.spawn applies the same rule to children', async () => {
    const parent = await system.spawn(Parent);
    expect(await parent.ask({ cls: Echo, name: 'c'.repeat(256) }))
      .toMatch(/^InvalidArgumentError: Actor name "c+\.\.\." for Echo is invalid: it is 256 UTF-8 bytes/);
    expect(await parent.ask({ cls: Echo, name: 'tab\there' })).toMatch(/holds U\+0009 at index 3/);
    expect(await parent.ask({ cls: Echo, name: 'c'.repeat(255) })).toBe('ok');
  });
});

/** Spawns Echo as a child with the options it is sent and replies with the outcome, as Parent does. */
class SpawnsWith extends Actor<unknown> {
  override async receive(msg: { options: unknown }, ctx: Context<unknown>): Promise<void> {
    try {
      await ctx.spawn(Echo, msg.options as { name?: string });
      ctx.reply('ok');
    } catch (error) {
      ctx.reply(`${(error as Error).name}: ${(error as Error).message}`);
    }
  }
}

describe('spawn options the runtime does not know are rejected at the call (tsx does not type-check)', () => {
  let system: ActorSystem;
  beforeEach(() => {
    system = quietSystem();
  });
  afterEach(() => system.shutdown());

  const clusterOnly: Array<[string, Record<string, unknown>]> = [
    ['sharded', { sharded: true }],
    ['singleton', { singleton: true }],
    ['replication', { replication: { replicas: 3 } }],
  ];

  test.each(clusterOnly)("'%s' on a local system says it needs a clustered one, and how to make it", async (option, options) => {
    const error = await rejection(system.spawn(Echo, { name: 'counter', ...options }));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toContain(`spawn(Echo): '${option}' needs a clustered system: a top-level system.spawn on a node made by clustered() from 'casty'`);
    expect(system.lookupLocal('counter')).toBeUndefined(); // no plain local actor was made instead
  });

  test('an extension with spawnDistributed (sharding) takes the spawns with cluster-wide options, and only those', async () => {
    const taken: string[] = [];
    system.registerExtension(new ExtensionKey<SystemExtension>('test.distributed'), {
      spawnDistributed: (actorClass, options) => {
        taken.push(`${actorClass.name} ${JSON.stringify(options)}`);
        return Promise.resolve('a sharded ref');
      },
    });
    expect(await (system.spawn(Echo, { name: 'players', sharded: true } as { name: string }) as Promise<unknown>)).toBe('a sharded ref');
    await system.spawn(Echo, { name: 'plain' });
    expect(taken).toEqual(['Echo {"name":"players","sharded":true}']);
    expect(system.lookupLocal('plain')).toBeDefined();
  });

  test('a typo is an InvalidArgumentError naming it, suggesting the near option and listing the known ones', async () => {
    const error = await rejection(system.spawn(Echo, { nmae: 'a' } as { name?: string }));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toBe("spawn(Echo): unknown option 'nmae' (did you mean 'name'?); the options are name, args and mailbox");
    expect(system.lookupLocal('/user/$0')).toBeUndefined();
  });

  test('an unknown option with no near known one lists the known ones, and several are all named', async () => {
    const one = await rejection(system.spawn(Echo, { persistent: true } as { name?: string }));
    expect(one.message).toBe("spawn(Echo): unknown option 'persistent'; the options are name, args and mailbox");
    const two = await rejection(system.spawn(Echo, { timeout: 5, color: 'red' } as { name?: string }));
    expect(two.message).toBe("spawn(Echo): unknown options 'timeout', 'color'; the options are name, args and mailbox");
  });

  test.each([
    ['a string', 'counter', /spawn\(Echo\): the options must be an object like \{ name, args, mailbox \}, got string "counter"/],
    ['null', null, /the options must be an object like \{ name, args, mailbox \}, got null/],
    ['an array', ['a'], /the options must be an object like \{ name, args, mailbox \}, got an array/],
  ])('options that are %s are an InvalidArgumentError', async (_what, options, problem) => {
    const error = await rejection(system.spawn(Echo, options as { name?: string }));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toMatch(problem);
  });

  test.each([
    ['args that are not an array', { args: 'x' }, /spawn\(Echo\): 'args' must be an array of constructor arguments, got string "x"/],
    ['a mailbox that is a number', { mailbox: 10 }, /spawn\(Echo\): 'mailbox' must be an object like \{ capacity: 100, overflow: 'drop-newest' \}, got number 10/],
    ['a mailbox that is null', { mailbox: null }, /'mailbox' must be an object like .*, got null/],
    ['a mailbox with a typo', { mailbox: { capacity: 10, overflw: 'reject' } }, /spawn\(Echo\): unknown mailbox option 'overflw' \(did you mean 'overflow'\?\); the mailbox options are capacity and overflow/],
  ])('%s is an InvalidArgumentError', async (_what, options, problem) => {
    const error = await rejection(system.spawn(Echo, options as { name?: string }));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toMatch(problem);
  });

  test('known options still work, including ones set to undefined', async () => {
    const ref = await system.spawn(Echo, { name: 'fine', args: [], mailbox: { capacity: 5, overflow: 'reject' } });
    expect(await ref.ask('x')).toBe('x');
    await expect(system.spawn(Echo, { name: undefined, mailbox: undefined } as {})).resolves.toBeDefined();
    await expect(system.spawn(Echo, {})).resolves.toBeDefined();
    await expect(system.spawn(Echo)).resolves.toBeDefined();
  });

  test('ctx.spawn applies the same checks to children', async () => {
    const parent = await system.spawn(SpawnsWith);
    expect(await parent.ask({ options: { sharded: true } }))
      .toMatch(/^InvalidArgumentError: spawn\(Echo\): 'sharded' needs a clustered system: .*ctx\.spawn makes children, which are never sharded/);
    expect(await parent.ask({ options: { nmae: 'a' } }))
      .toBe("InvalidArgumentError: spawn(Echo): unknown option 'nmae' (did you mean 'name'?); the options are name, args and mailbox");
    expect(await parent.ask({ options: 'child' })).toMatch(/the options must be an object/);
    expect(await parent.ask({ options: { name: 'child' } })).toBe('ok');
  });
});
