// What the codec refuses, and how it says so: values the wire cannot carry fail at encode with the class, the
// fix and the path; bytes it cannot read fail at decode with a typed error, quickly, whatever the bytes.

import { encode as msgpackEncode, ExtData } from '@msgpack/msgpack';
import { Codec, MalformedMessageError, MessageEncodingError, UnknownMessageClassError } from '../../src/codec';
import { CastyError, errorClassForCode, MessageRegistrationError } from '../../src/errors';
import { message, registerMessageClass } from '../../src/message';

const codec = new Codec();

class Unregistered {
  value = 1;
}

@message('codec.failures.Item')
class Item {
  constructor(readonly sku: string, readonly extra?: unknown) {}
}

@message('codec.failures.Order')
class Order {
  constructor(readonly items: Item[], readonly notes: Map<string, unknown> = new Map()) {}
}

@message('codec.failures.PlaceOrder')
class PlaceOrder {
  constructor(readonly order: Order) {}
}

function encodeError(value: unknown): MessageEncodingError {
  try {
    codec.encode(value);
  } catch (error) {
    expect(error).toBeInstanceOf(MessageEncodingError);
    return error as MessageEncodingError;
  }
  throw new Error('encode did not fail');
}

function decodeError(bytes: Uint8Array, using: Codec = codec): unknown {
  try {
    using.decode(bytes);
  } catch (error) {
    return error;
  }
  throw new Error('decode did not fail');
}

describe('encoding refuses what the wire cannot carry', () => {
  test('an unregistered class names the class and the fix', () => {
    const error = encodeError(new Unregistered());
    expect(error.message).toBe("Message class Unregistered is not registered for the wire; decorate it with " +
      "@message('my.app.Unregistered') (nested classes need it too) (it is the message itself)");
    expect(error.code).toBe('MESSAGE_ENCODING');
    expect(error.valueClass).toBe('Unregistered');
    expect(errorClassForCode('MESSAGE_ENCODING')).toBe(MessageEncodingError);
  });

  test('a nested unregistered class names the path where it was found', () => {
    const message = new PlaceOrder(new Order([new Item('a'), new Item('b'), new Item('c', new Unregistered())]));
    const error = encodeError(message);
    expect(error.path).toBe('order.items[2].extra');
    expect(error.message).toContain('Message class Unregistered is not registered for the wire');
    expect(error.message).toContain('(found at order.items[2].extra in PlaceOrder)');
    const inMap = encodeError(new Order([], new Map([['gift wrap', { with: [new Unregistered()] }]])));
    expect(inMap.path).toBe('notes.get("gift wrap").with[0]');
    expect(encodeError({ 'odd key': new Set([1, new Unregistered()]) }).path).toBe('["odd key"].values()[1]');
  });

  test('functions, symbols and unsupported built-ins are refused the same way', () => {
    const fn = encodeError({ callback: function onDone() {} });
    expect(fn.message).toContain('Cannot send a function (onDone) in a message (found at callback in Object)');
    expect(fn.path).toBe('callback');
    const symbol = encodeError([Symbol('s')]);
    expect(symbol.message).toContain('Cannot send a symbol (Symbol(s))');
    expect(symbol.path).toBe('[0]');
    const regexp = encodeError({ pattern: /x/ });
    expect(regexp.message).toContain('Cannot send a RegExp in a message (found at pattern in Object)');
    expect(encodeError(new Float64Array(2)).valueClass).toBe('Float64Array');
    expect(encodeError(new Item('x', Promise.resolve())).path).toBe('extra');
  });

  test('a cycle (or too deep a value) fails fast with a clear error', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic['self'] = cyclic;
    expect(encodeError(cyclic).message).toContain('nested deeper than 100 levels or contains a cycle');
    const loopingItem = new Item('loop');
    (loopingItem as { extra: unknown }).extra = [loopingItem];
    expect(encodeError(loopingItem).message).toContain('contains a cycle');
    const shallow = new Codec({ maxDepth: 3 });
    expect(shallow.decode(shallow.encode([['level 3']]))).toEqual([['level 3']]);
    expect(shallow.decode(shallow.encode([new Set(['level 3'])]))).toEqual([new Set(['level 3'])]);
    expect(() => shallow.encode([[['level 4']]])).toThrow(MessageEncodingError);
    expect(() => shallow.encode([new Set([['level 4']])])).toThrow(MessageEncodingError);
  });

  test('a message larger than maxBytes is refused at the sender', () => {
    const small = new Codec({ maxBytes: 64 });
    expect(() => small.encode('x'.repeat(100))).toThrow(/encodes to 102 bytes, more than maxBytes \(64\)/);
  });

  test('a duplicate wire name names both classes and the fix', () => {
    class Other {}
    expect(() => registerMessageClass(Other, 'codec.failures.Item')).toThrow(MessageRegistrationError);
    expect(() => registerMessageClass(Other, 'codec.failures.Item')).toThrow(
      "Message name 'codec.failures.Item' is already used by class Item, so Other cannot take it; " +
      "give one of them an explicit name: @message('my.app.Other')");
  });

  test('bad options are refused', () => {
    expect(() => new Codec({ maxBytes: 0 })).toThrow(/maxBytes must be a positive integer/);
    expect(() => new Codec({ maxDepth: 1.5 })).toThrow(/maxDepth must be a positive integer/);
  });
});

describe('decoding refuses bytes it cannot read', () => {
  test('an unregistered wire name fails with UnknownMessageClassError naming it', () => {
    const bytes = msgpackEncode(new ExtData(1, msgpackEncode(['codec.failures.NotHere', { a: 1 }])));
    const error = decodeError(bytes);
    expect(error).toBeInstanceOf(UnknownMessageClassError);
    expect((error as UnknownMessageClassError).wireName).toBe('codec.failures.NotHere');
    expect((error as Error).message).toContain("'codec.failures.NotHere', which is not registered on this node");
    expect((error as CastyError).code).toBe('UNKNOWN_MESSAGE_CLASS');
    // A class whose wire name changed: its old name no longer decodes.
    @message('codec.failures.Renamed.v1')
    class Renamed { field = 1; }
    const old = codec.encode(new Renamed());
    registerMessageClass(Renamed, 'codec.failures.Renamed.v2');
    expect(decodeError(old)).toBeInstanceOf(UnknownMessageClassError);
  });

  test('every truncation of a valid message throws MalformedMessageError', () => {
    const bytes = codec.encode(new PlaceOrder(new Order([new Item('a', { when: new Date(1), n: 2n ** 70n })],
      new Map([['k', new Set([undefined, 'v'])]]))));
    for (let length = 0; length < bytes.length; length++) {
      expect(decodeError(bytes.subarray(0, length))).toBeInstanceOf(MalformedMessageError);
    }
    const extra = new Uint8Array(bytes.length + 1);
    extra.set(bytes);
    expect(decodeError(extra)).toBeInstanceOf(MalformedMessageError);
  });

  test('random bytes either decode or throw a typed Casty error, never anything else', () => {
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let round = 0; round < 2000; round++) {
      const bytes = Uint8Array.from({ length: 1 + Math.floor(random() * 40) }, () => Math.floor(random() * 256));
      if (round % 2 === 0) bytes[0] = 0xc7 + Math.floor(random() * 3); // aim at extensions half the time
      try {
        codec.decode(bytes);
      } catch (error) {
        expect(error).toBeInstanceOf(CastyError);
      }
    }
  });

  test('length fields that claim more than the input fail at once, without allocating them', () => {
    const huge = [
      Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff), // array of 4 billion items
      Uint8Array.of(0xdf, 0xff, 0xff, 0xff, 0xff), // map of 4 billion entries
      Uint8Array.of(0xdb, 0xff, 0xff, 0xff, 0xff, 0x41), // string of 4 GB
      Uint8Array.of(0xc6, 0xff, 0xff, 0xff, 0xff), // binary of 4 GB
      Uint8Array.of(0xc9, 0xff, 0xff, 0xff, 0xff, 0x01), // extension of 4 GB
    ];
    const limited = new Codec({ maxBytes: 1024 });
    for (const bytes of huge) {
      expect(decodeError(bytes)).toBeInstanceOf(MalformedMessageError);
      expect(decodeError(bytes, limited)).toBeInstanceOf(MalformedMessageError);
    }
    expect(decodeError(new Uint8Array(2048), limited)).toBeInstanceOf(MalformedMessageError);
  });

  test('malformed extension payloads and unknown extension types are MalformedMessageError', () => {
    const cases = [
      new ExtData(1, msgpackEncode('not a pair')),
      new ExtData(1, msgpackEncode(['codec.failures.Item', 'not fields'])),
      new ExtData(2, msgpackEncode([1, 2, 3])), // a Map with an odd number of items
      new ExtData(3, msgpackEncode({ not: 'an array' })),
      new ExtData(4, Uint8Array.of(1, 2, 3)), // a Date of 3 bytes
      new ExtData(5, Buffer.from('xyz')), // a bigint that is not hex
      new ExtData(6, msgpackEncode(['Error'])),
      new ExtData(7, msgpackEncode('ref without hook')),
      new ExtData(99, Uint8Array.of(0)),
      new ExtData(-1, Uint8Array.of(0, 0, 0, 0)), // msgpack's timestamp: not written by Casty
    ];
    for (const ext of cases) expect(decodeError(msgpackEncode(ext))).toBeInstanceOf(MalformedMessageError);
    expect((decodeError(msgpackEncode(cases[7])) as Error).message).toContain('no refs hook');
  });

  test('extensions nested past maxDepth are refused instead of recursing', () => {
    let bytes: Uint8Array = msgpackEncode([]);
    for (let i = 0; i < 150; i++) bytes = msgpackEncode(new ExtData(3, bytes));
    expect((decodeError(bytes) as Error).message).toContain('nested deeper than maxDepth (100)');
  });

  test('decode needs a Uint8Array', () => {
    expect(() => codec.decode('bytes' as unknown as Uint8Array)).toThrow(/needs a Uint8Array \(or Buffer\), got string/);
  });
});
