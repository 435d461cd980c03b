// The `/system` namespace (core/src/internal/systemActors.ts): the framework's own actors live apart from the user's.

import type { Context} from '@casty/core';
import { Actor, ActorStopped, message, Request } from '@casty/core';
import { spawnSystemActor } from '@casty/core/internal';
import { quietSystem, record } from './fixtures/recording';

@message('sysact.Ping') class Ping extends Request<string> {}

class Echo extends Actor<Ping> {
  override receive(_msg: Ping, ctx: Context<Ping>): void { ctx.reply(ctx.selfRef.path); }
}

describe('system actors', () => {
  test('live at /system/<name>, answer there, and are found by path only', async () => {
    await using system = quietSystem();
    const region = await spawnSystemActor(system, Echo, { name: 'shard-region' });
    expect(region.path).toBe('/system/shard-region');
    expect(await region.ask(new Ping())).toBe('/system/shard-region');
    expect(system.lookupLocal('shard-region')).toBeUndefined();
    expect(await system.lookup('shard-region')).toBeUndefined();
    expect(system.lookupLocal('/system/shard-region')).toBe(region);
    expect(system.lookupLocal('/user/shard-region')).toBeUndefined();
  });

  test('a user actor may take the same name without a clash, and neither shadows the other', async () => {
    await using system = quietSystem();
    const framework = await spawnSystemActor(system, Echo, { name: 'players' });
    const user = await system.spawn(Echo, { name: 'players' });
    expect(system.lookupLocal('players')).toBe(user);
    expect(await user.ask(new Ping())).toBe('/user/players');
    expect(await framework.ask(new Ping())).toBe('/system/players');
  });

  test('a user spawn cannot reach into /system', async () => {
    await using system = quietSystem();
    await expect(system.spawn(Echo, { name: '/system/x' })).rejects.toThrow(/name/);
    await expect(system.spawn(Echo, { name: 'system/x' })).rejects.toThrow(/name/);
  });

  test('at shutdown the user\'s actors stop first, then the system actors (which may still serve them)', async () => {
    const system = quietSystem();
    const stopped = record(system, ActorStopped);
    await spawnSystemActor(system, Echo, { name: 'replica-store' });
    await system.spawn(Echo, { name: 'account' });
    await system.spawn(Echo, { name: 'ledger' });
    await system.shutdown();
    expect(stopped.map((e) => e.ref.path)).toEqual(['/user/ledger', '/user/account', '/system/replica-store']);
  });
});
