// Errors and actor refs inside messages: an error comes back as its registered class (so a remote ask rejects
// with something `instanceof` recognises) or at least with its name, message and code; a ref nested anywhere
// goes through the refs hook both ways.

import { AskTimeoutError, CastyError, ActorInitializationError } from '../../src/errors';
import { Codec, type RefHook } from '../../src/codec';
import { message } from '../../src/message';

class FakeRef {
  static made = 0;
  constructor(readonly path: string) { FakeRef.made++; }
  tell(): string { return `tell ${this.path}`; }
}

const refs: RefHook<FakeRef> = {
  isRef: (value): value is FakeRef => value instanceof FakeRef,
  toWire: (ref) => ref.path,
  fromWire: (wire) => {
    if (typeof wire !== 'string') throw new TypeError('a ref wire form is a path string');
    return new FakeRef(wire);
  },
};

const codec = new Codec({ refs });
const roundTrip = <T>(value: T): T => codec.decode(codec.encode(value)) as T;

@message('codec.refs.Envelope')
class Envelope {
  constructor(readonly replyTo: FakeRef, readonly inner: { watchers: FakeRef[]; byName: Map<FakeRef, FakeRef> }) {}
}

describe('errors', () => {
  test('a registered Casty error comes back as its class with name, message, code and fields', () => {
    const sent = new AskTimeoutError('/user/counter', 'GetCount', 250);
    const back = roundTrip(sent);
    expect(back).toBeInstanceOf(AskTimeoutError);
    expect(back).toBeInstanceOf(CastyError);
    expect(back).toBeInstanceOf(Error);
    expect(back.name).toBe('AskTimeoutError');
    expect(back.message).toBe(sent.message);
    expect(back.code).toBe('ASK_TIMEOUT');
    expect([back.actor, back.messageClass, back.timeoutMs]).toEqual(['/user/counter', 'GetCount', 250]);
    expect(back.stack).not.toContain(__filename); // the sender's stack stays home
    expect(Object.keys(back).sort()).toEqual(Object.keys(sent).sort());
  });

  test('an error with an unregistered code keeps name, message, code and extra fields', () => {
    const sent = Object.assign(new Error('card declined'), { name: 'PaymentError', code: 'E_PAYMENT', amount: 12.5 });
    const back = roundTrip(sent) as Error & { code: string; amount: number };
    expect(back).toBeInstanceOf(Error);
    expect([back.name, back.message, back.code, back.amount]).toEqual(['PaymentError', 'card declined', 'E_PAYMENT', 12.5]);
    expect(String(back)).toBe('PaymentError: card declined');
  });

  test('built-in error classes keep their class; a cause crosses too', () => {
    const back = roundTrip(new TypeError('bad', { cause: new RangeError('inner') }));
    expect(back).toBeInstanceOf(TypeError);
    expect(back.message).toBe('bad');
    expect(back.cause).toBeInstanceOf(RangeError);
    expect((back.cause as Error).message).toBe('inner');
    const init = roundTrip(new ActorInitializationError('/user/a', new Error('boom')));
    expect(init).toBeInstanceOf(ActorInitializationError);
    expect((init.cause as Error).message).toBe('boom');
  });

  test('fields that cannot be encoded are dropped, not the error; a cause cycle is cut', () => {
    const sent = Object.assign(new Error('with junk'), { handler: () => 1, kept: [1, 2] });
    const back = roundTrip({ failure: sent as Error }).failure as Error & Record<string, unknown>;
    expect(back.message).toBe('with junk');
    expect(back['kept']).toEqual([1, 2]);
    expect('handler' in back).toBe(false);
    const looped = new Error('looped');
    looped.cause = looped;
    const backLooped = roundTrip(looped);
    expect(backLooped.message).toBe('looped');
    expect(backLooped.cause).toBeUndefined();
  });
});

describe('actor refs through the refs hook', () => {
  test('refs nested in fields, arrays, Map keys and values come back as refs', () => {
    const a = new FakeRef('/user/a');
    const b = new FakeRef('/user/b');
    const back = roundTrip(new Envelope(a, { watchers: [a, b], byName: new Map([[a, b]]) }));
    expect(back).toBeInstanceOf(Envelope);
    expect(back.replyTo).toBeInstanceOf(FakeRef);
    expect(back.replyTo.tell()).toBe('tell /user/a');
    expect(back.inner.watchers.map((ref) => ref.path)).toEqual(['/user/a', '/user/b']);
    const [[key, value]] = [...back.inner.byName] as [[FakeRef, FakeRef]];
    expect([key.path, value.path]).toEqual(['/user/a', '/user/b']);
    expect(roundTrip(new Set([a]))).toStrictEqual(new Set([new FakeRef('/user/a')]));
  });

  test('without the hook a ref is refused at encode like any unregistered class', () => {
    expect(() => new Codec().encode({ replyTo: new FakeRef('/user/x') })).toThrow(
      /Message class FakeRef is not registered for the wire.*found at replyTo in Object/);
  });

  test('a hook that calls back into the same codec works', () => {
    const reentrant: Codec = new Codec({
      refs: { ...refs, toWire: (ref) => reentrant.encode({ path: (ref as FakeRef).path }) },
    });
    const bytes = reentrant.encode([new FakeRef('/user/r')]);
    const hookRefs = new Codec({ refs: { ...refs, fromWire: (wire) => new FakeRef(
      (reentrant.decode(wire as Uint8Array) as { path: string }).path) } });
    expect((hookRefs.decode(bytes) as FakeRef[])[0]?.path).toBe('/user/r');
  });
});
