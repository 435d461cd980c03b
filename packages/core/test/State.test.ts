// Actor state capture and restore: which fields are state (the default rule, `_`, excludeFields, @persistent,
// getState/setState), that values round-trip through the wire codec, and that a field the wire cannot carry is
// a StateCaptureError naming the class and the field, at capture.

import type {
  Context} from '@casty/core';
import {
  Actor, applyState, captureState, Codec, errorClassForCode, InvalidArgumentError, message, persistent, Request, restoreState, StateCaptureError, stateOf, stateUnchanged,
} from '@casty/core';
import { quietSystem } from './fixtures/recording';

@message('test.state.LineItem')
class LineItem {
  constructor(readonly sku: string, readonly price: bigint, readonly addedAt: Date) {}
}

class Account extends Actor<unknown> {
  balance = 0;
  owner = 'nobody';
  _cache = new Map<string, number>();
  constructor(readonly entityId: string) { super(); }
}

class CachedService extends Actor<unknown> {
  static excludeFields = ['cache', 'tempResults'];
  cache: Record<string, number> = { a: 1 };
  tempResults: number[] = [1, 2];
  queryCount = 0;
}

class SubService extends CachedService {
  extra = 'x';
}

class OwnListService extends CachedService {
  static override excludeFields = ['extra'];
  extra = 'x';
}

@persistent('balance', 'transactionCount')
class Counter extends Actor<unknown> {
  balance = 0;
  transactionCount = 0;
  tempData: string | null = 'temp';
  constructor(readonly entityId: string) { super(); }
}

@persistent('balance', 'missing')
class MissingField extends Actor<unknown> {
  balance = 1;
}

class Complex extends Actor<unknown> {
  data = new Map<string, number>();
  derived = 0;
  getState(): object {
    return { entries: [...this.data] };
  }
  setState(state: object): void {
    this.data = new Map((state as { entries: [string, number][] }).entries);
    this.derived = this.data.size;
  }
}

class OnlyGet extends Actor<unknown> {
  value = 1;
  getState(): object { return { value: this.value }; }
}

class OnlySet extends Actor<unknown> {
  value = 1;
  setState(state: object): void { this.value = (state as { value: number }).value; }
}

class Rich extends Actor<unknown> {
  prices = new Map<string, bigint>([['apple', 12n], ['pear', 2n ** 70n]]);
  tags = new Set(['a', 'b']);
  created = new Date(Date.UTC(2020, 1, 3));
  items = [new LineItem('sku-1', 5n, new Date(0))];
  nested = { lines: new Map([[1, new LineItem('sku-2', -1n, new Date(1000))]]) };
  nothing: undefined = undefined;
}

@message('test.state.Snapshot')
class Snapshot extends Request<Uint8Array> {}

class Running extends Actor<Snapshot> {
  handled = 0;
  _ctx: Context<Snapshot> | undefined;
  override receive(_msg: Snapshot, ctx: Context<Snapshot>): void {
    this.handled++;
    this._ctx = ctx;
    ctx.reply(captureState(this));
  }
}

class Unregistered {
  constructor(readonly n: number) {}
}

function captureError(run: () => unknown): StateCaptureError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(StateCaptureError);
    return error as StateCaptureError;
  }
  throw new Error('expected a StateCaptureError');
}

describe('which fields are state', () => {
  test('default: own enumerable fields not starting with _, without entityId', () => {
    const account = new Account('acc-1');
    account.balance = 42;
    expect(stateOf(account)).toEqual({ balance: 42, owner: 'nobody' });
  });

  test('a _private field is skipped, also one added after construction', () => {
    const account = new Account('acc-1') as Account & Record<string, unknown>;
    account['_late'] = 1;
    account['late'] = 2;
    const state = stateOf(account);
    expect(Object.keys(state).sort()).toEqual(['balance', 'late', 'owner']);
  });

  test('static excludeFields removes fields, and is inherited', () => {
    expect(stateOf(new CachedService())).toEqual({ queryCount: 0 });
    expect(stateOf(new SubService())).toEqual({ queryCount: 0, extra: 'x' });
  });

  test('a subclass with its own excludeFields replaces the inherited list', () => {
    expect(stateOf(new OwnListService())).toEqual({ cache: { a: 1 }, tempResults: [1, 2], queryCount: 0 });
  });

  test('excludeFields that is not a list of names is an error naming the class', () => {
    class Wrong extends Actor<unknown> {
      static excludeFields = 'cache';
      cache = 1;
    }
    const error = captureError(() => stateOf(new Wrong()));
    expect(error.actorClass).toBe('Wrong');
    expect(error.message).toContain("the string 'cache'");
  });

  test('@persistent keeps exactly the fields it names', () => {
    const counter = new Counter('c-1');
    counter.balance = 10;
    counter.transactionCount = 3;
    expect(stateOf(counter)).toEqual({ balance: 10, transactionCount: 3 });
  });

  test('@persistent is inherited; a named field the instance lacks is an error naming class and field', () => {
    class SubCounter extends Counter { more = 1; }
    expect(stateOf(new SubCounter('c-2'))).toEqual({ balance: 0, transactionCount: 0 });
    const error = captureError(() => captureState(new MissingField()));
    expect(error.actorClass).toBe('MissingField');
    expect(error.field).toBe('missing');
    expect(error.message).toContain("no own field 'missing'");
  });

  test('@persistent with excludeFields is an error, at decoration or at capture', () => {
    expect(() => {
      @persistent('a')
      class Both extends Actor<unknown> {
        static excludeFields = ['b'];
        a = 1;
        b = 2;
      }
      return Both;
    }).toThrow(/Both chooses its state twice/);
    class Later extends Counter { static excludeFields = ['tempData']; }
    const error = captureError(() => stateOf(new Later('x')));
    expect(error.actorClass).toBe('Later');
    expect(error.message).toContain('chooses its state twice');
    class Emptied extends Counter { static excludeFields: string[] = []; }
    expect(stateOf(new Emptied('y'))).toEqual({ balance: 0, transactionCount: 0 });
  });

  test('@persistent refuses entityId and an empty list', () => {
    expect(() => persistent('entityId')(class Entity extends Actor<unknown> {})).toThrow(StateCaptureError);
    expect(() => persistent()(class NoFields extends Actor<unknown> {})).toThrow(InvalidArgumentError);
  });

  test('getState()/setState() take full control', () => {
    const actor = new Complex();
    actor.data.set('x', 1).set('y', 2);
    expect(stateOf(actor)).toEqual({ entries: [['x', 1], ['y', 2]] });
    const fresh = new Complex();
    restoreState(fresh, captureState(actor));
    expect(fresh.data).toEqual(new Map([['x', 1], ['y', 2]]));
    expect(fresh.derived).toBe(2);
  });

  test('getState without setState, or the reverse, is an error naming the class, at capture and restore', () => {
    const onlyGet = captureError(() => captureState(new OnlyGet()));
    expect(onlyGet.actorClass).toBe('OnlyGet');
    expect(onlyGet.message).toContain('OnlyGet has getState() but no setState()');
    const onlySet = captureError(() => applyState(new OnlySet(), { value: 2 }));
    expect(onlySet.message).toContain('OnlySet has setState() but no getState()');
  });

  test('getState()/setState() together with @persistent or excludeFields is an error', () => {
    expect(() => persistent('a')(class Hooked extends Complex { a = 1; })).toThrow(/Hooked has getState\(\)\/setState\(\)/);
    class HookedExcluding extends Complex { static excludeFields = ['derived']; }
    const error = captureError(() => captureState(new HookedExcluding()));
    expect(error.message).toContain("HookedExcluding has getState()/setState(), which choose its whole state, " +
      "and also static excludeFields ('derived')");
  });
});

describe('round trip through the codec', () => {
  test('Map, Set, Date, bigint, undefined and nested @message classes come back exactly', () => {
    const original = new Rich();
    const copy = new Rich();
    copy.prices = new Map();
    copy.tags = new Set();
    copy.items = [];
    restoreState(copy, captureState(original));
    expect(copy.prices).toEqual(new Map([['apple', 12n], ['pear', 2n ** 70n]]));
    expect(copy.tags).toEqual(new Set(['a', 'b']));
    expect(copy.created).toEqual(new Date(Date.UTC(2020, 1, 3)));
    expect(copy.items[0]).toBeInstanceOf(LineItem);
    expect(copy.items[0]).toEqual(new LineItem('sku-1', 5n, new Date(0)));
    expect(copy.nested.lines.get(1)).toBeInstanceOf(LineItem);
    expect(copy.nested.lines.get(1)?.price).toBe(-1n);
    expect('nothing' in copy && copy.nothing === undefined).toBe(true);
  });

  test('onto a fresh instance: the entity keeps its own id, fields are assigned', () => {
    const account = new Account('acc-7');
    account.balance = 99;
    account.owner = 'alice';
    account._cache.set('k', 1);
    const bytes = captureState(account);
    const fresh = new Account('acc-7');
    restoreState(fresh, bytes);
    expect(fresh.balance).toBe(99);
    expect(fresh.owner).toBe('alice');
    expect(fresh._cache.size).toBe(0);
    expect(fresh.entityId).toBe('acc-7');
  });

  test('a snapshot cannot overwrite entityId; fields the class no longer has are still assigned', () => {
    const fresh = new Account('acc-8') as Account & Record<string, unknown>;
    applyState(fresh, { entityId: 'someone-else', balance: 5, retired: true });
    expect(fresh.entityId).toBe('acc-8');
    expect(fresh.balance).toBe(5);
    expect(fresh['retired']).toBe(true);
  });

  test('@persistent state restores only the named fields', () => {
    const counter = new Counter('c-3');
    counter.balance = 7;
    counter.tempData = 'changed';
    const fresh = new Counter('c-3');
    restoreState(fresh, captureState(counter));
    expect(fresh.balance).toBe(7);
    expect(fresh.tempData).toBe('temp');
  });

  test('an actor ref field encodes through the codec given', () => {
    class FakeRef { constructor(readonly path: string) {} }
    const codec = new Codec({
      refs: {
        isRef: (value): value is FakeRef => value instanceof FakeRef,
        toWire: (ref) => (ref as FakeRef).path,
        fromWire: (wire) => new FakeRef(wire as string),
      },
    });
    class Holder extends Actor<unknown> { target = new FakeRef('/user/a'); }
    const copy = new Holder();
    copy.target = new FakeRef('other');
    restoreState(copy, captureState(new Holder(), codec), codec);
    expect(copy.target).toEqual(new FakeRef('/user/a'));
    expect(() => captureState(new Holder())).toThrow(StateCaptureError); // the default codec has no refs hook
  });

  test('stateUnchanged compares the bytes', () => {
    const account = new Account('acc-9');
    const first = captureState(account);
    expect(stateUnchanged(undefined, first)).toBe(false);
    expect(stateUnchanged(first, captureState(account))).toBe(true);
    account.balance = 1;
    const second = captureState(account);
    expect(stateUnchanged(first, second)).toBe(false);
    account.balance = 0;
    expect(stateUnchanged(first, captureState(account))).toBe(true);
  });

  test('given the previous capture, an unchanged state is those bytes themselves, a changed one fresh bytes', () => {
    const account = new Account('acc-10');
    const codec = new Codec();
    const first = captureState(account, codec);
    expect(captureState(account, codec, first)).toBe(first);
    account.balance = 7;
    const second = captureState(account, codec, first);
    expect(second).not.toBe(first);
    expect(stateUnchanged(first, second)).toBe(false);
    // fresh bytes the caller owns: the codec's next use does not change them
    const kept = Uint8Array.from(second);
    account.owner = 'someone else entirely';
    captureState(account, codec, second);
    expect(second).toEqual(kept);
    expect(restoreBalance(second)).toBe(7);
  });
});

function restoreBalance(bytes: Uint8Array): number {
  const copy = new Account('copy');
  restoreState(copy, bytes);
  return copy.balance;
}

test('an actor running in a system has only its own fields as state (the runtime adds none)', async () => {
  await using system = quietSystem();
  const ref = await system.spawn(Running);
  await ref.ask(new Snapshot());
  const bytes = await ref.ask(new Snapshot());
  const copy = new Running();
  restoreState(copy, bytes);
  expect(stateOf(copy)).toEqual({ handled: 2 });
});

describe('a field the wire cannot carry is a StateCaptureError naming class and field', () => {
  test('a function field', () => {
    class WithCallback extends Actor<unknown> {
      count = 1;
      onTick = (): void => {};
    }
    const error = captureError(() => captureState(new WithCallback()));
    expect(error.actorClass).toBe('WithCallback');
    expect(error.field).toBe('onTick');
    expect(error.code).toBe('STATE_CAPTURE');
    expect(error.message).toMatch(/WithCallback.*'onTick'/);
  });

  test('an instance of an unregistered class, deep inside a field', () => {
    class Deep extends Actor<unknown> {
      ok = 1;
      lookup = new Map([['x', { holder: new Unregistered(1) }]]);
    }
    const error = captureError(() => captureState(new Deep()));
    expect(error.field).toBe('lookup');
    expect(error.message).toContain('Unregistered');
    expect(error.message).toContain('@message');
  });

  test('a Symbol field', () => {
    class WithSymbol extends Actor<unknown> { marker = Symbol('m'); }
    const error = captureError(() => captureState(new WithSymbol()));
    expect(error.actorClass).toBe('WithSymbol');
    expect(error.field).toBe('marker');
  });

  test('a circular structure', () => {
    class Cyclic extends Actor<unknown> {
      fine = 'yes';
      graph: Record<string, unknown> = {};
      constructor() { super(); this.graph['self'] = this.graph; }
    }
    const error = captureError(() => captureState(new Cyclic()));
    expect(error.field).toBe('graph');
  });

  test('a bad value returned by getState() names the key', () => {
    class BadHooks extends Actor<unknown> {
      getState(): object { return { ok: 1, fn: () => 1 }; }
      setState(): void {}
    }
    const error = captureError(() => captureState(new BadHooks()));
    expect(error.actorClass).toBe('BadHooks');
    expect(error.field).toBe('fn');
  });

  test('StateCaptureError is registered for the wire', () => {
    expect(errorClassForCode('STATE_CAPTURE')).toBe(StateCaptureError);
    const codec = new Codec();
    const error = codec.decode(codec.encode(new StateCaptureError('A', 'f', 'boom'))) as StateCaptureError;
    expect(error).toBeInstanceOf(StateCaptureError);
    expect(error.field).toBe('f');
    expect(error.actorClass).toBe('A');
  });
});
