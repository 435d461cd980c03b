// The codec's round-trips: every value kind the wire carries comes back exactly, undefined stays apart from
// null everywhere, message classes come back as instances without their constructors running, and the
// extension-type numbers stay what older nodes expect.

import { encode as msgpackEncode } from '@msgpack/msgpack';
import { Exclude, Transform, Type } from 'class-transformer';
import { Codec, WireType } from '../../src/codec';
import { message, Request } from '../../src/message';

const codec = new Codec();
const roundTrip = <T>(value: T): T => codec.decode(codec.encode(value)) as T;

let constructed = 0;

@message('codec.test.Point')
class Point {
  constructor(readonly x: number, readonly y: number) { constructed++; }
  length(): number { return Math.hypot(this.x, this.y); }
}

@message('codec.test.Line')
class Line {
  constructor(readonly from: Point, readonly to: Point, readonly label?: string) { constructed++; }
}

@message('codec.test.Drawing')
class Drawing {
  constructor(
    readonly lines: Line[],
    readonly byName: Map<string, Point>,
    readonly marks: Set<Point>,
    readonly meta: { origin: Point; nested: { deeper: Point[] } },
  ) { constructed++; }
}

@message('codec.test.GetLength')
class GetLength extends Request<number> {
  constructor(readonly line: Line) { super(); constructed++; }
}

@message('codec.test.Base')
class Base { base = 'b'; }

@message('codec.test.Derived')
class Derived extends Base { derived = 'd'; }

describe('Codec round-trips', () => {
  test('primitives, including NaN, ±Infinity, -0, big safe integers, null and undefined', () => {
    const values = [0, -0, 1, -1, 127, 128, -33, 255, 65536, 2 ** 32, -(2 ** 40), Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER, 0.1, -1.5e300, Number.MIN_VALUE, NaN, Infinity, -Infinity, true, false, null, undefined];
    for (const value of values) expect(Object.is(roundTrip(value), value)).toBe(true);
  });

  test('strings with any (well-formed) unicode, short and long', () => {
    const values = ['', 'plain', 'naïve café', '日本語のテキスト', '😀👍🏽👨‍👩‍👧', 'e\u0301', '\u0000nul', 'x'.repeat(70_000),
      '🎉日本'.repeat(500)];
    for (const value of values) expect(roundTrip(value)).toBe(value);
  });

  test('short strings decoded again come back right, the same object when seen recently, whatever collides', () => {
    // the reader interns short ASCII values (1,024 slots by a hash of their bytes): every one must still be itself
    const values = Array.from({ length: 5_000 }, (_, i) => `id-${i}`);
    values.push('a', 'é', 'ab\u00e9', 'x'.repeat(32), 'y'.repeat(33), 'Z'.repeat(31) + 'é');
    const decoded = codec.decode(codec.encode(values)) as string[];
    expect(decoded).toEqual(values);
    const again = codec.decode(codec.encode(['user-42', 'user-42'])) as string[];
    expect(again[0]).toBe('user-42');
    expect(Object.is(again[0], again[1])).toBe(true);
  });

  test('arrays and plain objects, nested', () => {
    const value = { a: [1, 'two', [3, [4, { five: 5 }]]], b: { c: { d: [] as unknown[], e: {} } }, 'odd key': 1,
      '': 'empty key', 42: 'numeric key' };
    expect(roundTrip(value)).toStrictEqual(value);
    const long = roundTrip(Array.from({ length: 70_000 }, (_, i) => i)); // past array16's limit
    expect(long).toHaveLength(70_000);
    expect(long.every((item, i) => item === i)).toBe(true);
  });

  test('a sparse array comes back dense: its holes become undefined items', () => {
    // eslint-disable-next-line no-sparse-arrays
    const back = roundTrip([1, , 3]);
    expect(back).toHaveLength(3);
    expect(1 in back).toBe(true);
    expect(back[1]).toBeUndefined();
  });

  test('undefined stays distinct from null: as values, items, fields, Map keys and values, Set items', () => {
    expect(roundTrip(undefined)).toBeUndefined();
    expect(roundTrip(null)).toBeNull();
    expect(roundTrip([undefined, null, undefined])).toStrictEqual([undefined, null, undefined]);
    const object = roundTrip({ u: undefined, n: null });
    expect(Object.keys(object)).toEqual(['u', 'n']);
    expect(object.u).toBeUndefined();
    expect(object.n).toBeNull();
    const map = roundTrip(new Map<unknown, unknown>([[undefined, null], [null, undefined]]));
    expect([...map]).toStrictEqual([[undefined, null], [null, undefined]]);
    expect(roundTrip(new Set([undefined, null]))).toStrictEqual(new Set([undefined, null]));
    const line = roundTrip(new Line(new Point(0, 0), new Point(1, 1), undefined));
    expect('label' in line).toBe(true);
    expect(line.label).toBeUndefined();
  });

  test('Map with keys of any type, and Set', () => {
    const key = { id: 1 };
    const map = new Map<unknown, unknown>([[1, 'one'], ['1', 'string one'], [key, [1]], [NaN, 'nan'],
      [true, new Map([[2n, new Set(['x'])]])], [new Date(5), 'date key'], [[1, 2], 'array key']]);
    const back = roundTrip(map);
    expect(back).toBeInstanceOf(Map);
    expect(back).toStrictEqual(map);
    expect([...back.keys()].map((k) => typeof k)).toEqual(['number', 'string', 'object', 'number', 'boolean',
      'object', 'object']);
    const set = new Set<unknown>([1, '1', { a: 1 }, [2], new Set([3])]);
    expect(roundTrip(set)).toStrictEqual(set);
    expect(roundTrip(new Map())).toStrictEqual(new Map());
    expect(roundTrip(new Set())).toStrictEqual(new Set());
  });

  test('Date with millisecond precision, and an invalid Date', () => {
    for (const date of [new Date(0), new Date('2024-02-29T23:59:59.999Z'), new Date(-8.64e15), new Date(8.64e15)]) {
      const back = roundTrip(date);
      expect(back).toBeInstanceOf(Date);
      expect(back.getTime()).toBe(date.getTime());
    }
    const invalid = roundTrip(new Date(NaN));
    expect(invalid).toBeInstanceOf(Date);
    expect(Number.isNaN(invalid.getTime())).toBe(true);
  });

  test('Uint8Array, and Buffer as a Uint8Array, copied out of the input', () => {
    const bytes = new Uint8Array([0, 1, 2, 255]);
    expect(roundTrip(bytes)).toStrictEqual(bytes);
    expect(roundTrip(new Uint8Array(0))).toStrictEqual(new Uint8Array(0));
    const fromBuffer = roundTrip(Buffer.from('hello'));
    expect(Object.getPrototypeOf(fromBuffer)).toBe(Uint8Array.prototype);
    expect(Buffer.from(fromBuffer).toString()).toBe('hello');
    const input = codec.encode({ data: new Uint8Array([7, 7, 7]) });
    const decoded = codec.decode(input) as { data: Uint8Array };
    input.fill(0);
    expect([...decoded.data]).toEqual([7, 7, 7]);
  });

  test('bigint: zero, positive, negative, beyond 64 bits', () => {
    const values = [0n, 1n, -1n, 2n ** 63n, -(2n ** 63n), 2n ** 64n + 1n, -(2n ** 200n) + 7n, 10n ** 100n];
    for (const value of values) expect(roundTrip(value)).toBe(value);
  });

  test('message classes come back as instances, without their constructors, at any depth', () => {
    const a = new Point(3, 4);
    const drawing = new Drawing(
      [new Line(a, new Point(1, 2), 'first'), new Line(new Point(0, 0), a)],
      new Map([['a', a]]),
      new Set([new Point(9, 9)]),
      { origin: new Point(0, 0), nested: { deeper: [new Point(-1, -1)] } },
    );
    const before = constructed;
    const back = roundTrip(drawing);
    expect(constructed).toBe(before);
    expect(back).toBeInstanceOf(Drawing);
    expect(back).toStrictEqual(drawing);
    expect(back.lines[0]).toBeInstanceOf(Line);
    expect(back.lines[0]?.from.length()).toBe(5);
    expect(back.byName.get('a')).toBeInstanceOf(Point);
    expect([...back.marks][0]).toBeInstanceOf(Point);
    expect(back.meta.nested.deeper[0]).toBeInstanceOf(Point);
    const asked = roundTrip(new GetLength(new Line(a, a)));
    expect(asked).toBeInstanceOf(GetLength);
    expect(asked).toBeInstanceOf(Request);
    expect(asked.line.to.length()).toBe(5);
  });

  test('a registered subclass keeps its own class and the inherited fields', () => {
    const back = roundTrip([new Derived(), new Base()]);
    expect(back[0]).toBeInstanceOf(Derived);
    expect(back[0]).toStrictEqual(new Derived());
    expect(back[1]).toBeInstanceOf(Base);
    expect(back[1]).not.toBeInstanceOf(Derived);
  });

  test('one codec encodes many messages in a row without mixing their bytes', () => {
    const first = codec.encode(new Point(1, 2));
    const firstCopy = Uint8Array.from(first);
    codec.encode(new Drawing([], new Map(), new Set(), { origin: new Point(5, 5), nested: { deeper: [] } }));
    expect(first).toStrictEqual(firstCopy);
    const lines = Array.from({ length: 100 }, (_, i) => new Line(new Point(i, -i), new Point(i / 3, 0), `#${i}`));
    for (const line of lines) expect(roundTrip(line)).toStrictEqual(line);
  });

  test('plain values are standard msgpack, byte for byte, at every length boundary', () => {
    const values = [0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, -1, -32, -33,
      -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, Number.MIN_SAFE_INTEGER, 0.5, 2 ** 64, NaN, true, null,
      '', 'x'.repeat(31), 'x'.repeat(32), 'x'.repeat(256), 'x'.repeat(65536), 'é'.repeat(16), '日本'.repeat(30_000), '😀',
      [], Array.from({ length: 16 }, (_, i) => i), Array.from({ length: 65536 }, () => 1), { a: { b: [1, 'c'] } },
      Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i]))];
    for (const value of values) {
      expect(Buffer.from(codec.encode(value)).equals(Buffer.from(msgpackEncode(value)))).toBe(true);
      expect(roundTrip(value)).toStrictEqual(value);
    }
  });

  test('message classes and collections of any size round-trip (extension payloads past 255 and 65535 bytes)', () => {
    for (const length of [200, 300, 70_000]) {
      const label = 'é'.repeat(length);
      const line = new Line(new Point(1, 2), new Point(3, 4), label);
      const back = roundTrip({ lines: [line, line], set: new Set([label]), map: new Map([[label, line]]) });
      expect(back.lines[1]).toBeInstanceOf(Line);
      expect(back.lines[1]).toStrictEqual(line);
      expect(back.set).toStrictEqual(new Set([label]));
      expect(back.map.get(label)?.to).toBeInstanceOf(Point);
    }
  });

  test('encodeShared gives the bytes encode gives, in a buffer the next call reuses', () => {
    const shared = codec.encodeShared(new Point(1, 2));
    expect(shared).toStrictEqual(codec.encode(new Point(1, 2)));
    const copy = Uint8Array.from(shared);
    codec.encodeShared(new Point(7, 8));
    expect(shared).not.toStrictEqual(copy);
  });

  test('decoding a view into a larger Buffer reads only the view and copies bytes out of it', () => {
    const bytes = codec.encode({ data: new Uint8Array([7, 7, 7]), point: new Point(1, 2) });
    const frame = Buffer.alloc(bytes.length + 10, 0xc1); // 0xc1 never starts a msgpack value
    frame.set(bytes, 5);
    const decoded = codec.decode(frame.subarray(5, 5 + bytes.length)) as { data: Uint8Array; point: Point };
    frame.fill(0);
    expect(Object.getPrototypeOf(decoded.data)).toBe(Uint8Array.prototype);
    expect([...decoded.data]).toEqual([7, 7, 7]);
    expect(decoded.point).toBeInstanceOf(Point);
  });

  test('extension type numbers are the ones older nodes know (append only)', () => {
    expect(WireType).toEqual({ Undefined: 0, Message: 1, Map: 2, Set: 3, Date: 4, BigInt: 5, Error: 6,
      ActorRef: 7, Bytes: 8 });
  });
});

let decoratedConstructed = 0;

@message('codec.test.Child')
class Child {
  constructor(readonly name: string) { decoratedConstructed++; }
  greet(): string { return `hi ${this.name}`; }
}

@message('codec.test.Decorated')
class Decorated {
  @Exclude({ toClassOnly: true }) secret = 'local only';
  @Transform(({ value }) => (value as string).toUpperCase(), { toClassOnly: true }) shout = 'quiet';
  @Type(() => Child) child: Child | { name: string } = { name: 'plain' };
  @Type(() => Child) children: Child[] = [];
  tags = new Set(['a', 'b']);
  index = new Map<unknown, unknown>([[{ k: 1 }, 'object key']]);
  registered = new Point(1, 1);
  missing: string | undefined = undefined;
}

describe('class-transformer decorators on message classes', () => {
  test('@Exclude, @Transform and @Type apply; other fields come back exactly; no constructor runs', () => {
    const sent = new Decorated();
    sent.children = [new Child('kid')];
    const before = decoratedConstructed;
    const back = roundTrip(sent);
    expect(back).toBeInstanceOf(Decorated);
    expect('secret' in back).toBe(false);
    expect(back.shout).toBe('QUIET');
    expect(back.child).toBeInstanceOf(Child); // @Type made the plain object a Child
    expect((back.child as Child).greet()).toBe('hi plain');
    expect(back.children[0]).toBeInstanceOf(Child);
    expect(back.children[0]?.greet()).toBe('hi kid');
    expect(decoratedConstructed - before).toBe(1); // only @Type's conversion of the plain object
    expect(back.tags).toStrictEqual(new Set(['a', 'b']));
    expect(back.index).toStrictEqual(sent.index);
    expect(back.registered).toBeInstanceOf(Point);
    expect('missing' in back).toBe(true);
  });
});
