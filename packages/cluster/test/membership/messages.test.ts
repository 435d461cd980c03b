// SWIM wire messages: every kind round-trips, kinds keep their numbers, truncated or unknown bytes fail
// with MalformedMessageError, and push-pull parts stay under the size limit however many members there are.

import { MalformedMessageError } from '@casty/core';
import { decodeFrame, encodeFrame, encodeMessage, encodePushPull, SwimKind } from '../../src/membership/messages';
import type { PushPullMember, SwimMessage } from '../../src/membership/messages';

const address = { host: 'in-memory', port: 7 };

test('every message kind round-trips, primary first then piggybacked updates', () => {
  const messages: SwimMessage[] = [
    { kind: SwimKind.PING, seq: 1, target: 'b' },
    { kind: SwimKind.PING_REQ, seq: 2, target: 'c', targetAddress: address, wantNack: true },
    { kind: SwimKind.ACK, seq: 3 },
    { kind: SwimKind.NACK, seq: 4 },
    { kind: SwimKind.ALIVE, id: 'ñødé', address, incarnation: 2 ** 32 - 1 },
    { kind: SwimKind.SUSPECT, id: 'd', incarnation: 5, from: 'a' },
    { kind: SwimKind.DEAD, id: 'd', incarnation: 6, from: 'a' },
    { kind: SwimKind.LEFT, id: 'e', incarnation: 7 },
    { kind: SwimKind.PUSH_PULL, join: true, answer: true, members: [{ id: 'x', address, incarnation: 1, state: 'suspect' }] },
  ];
  const [first, ...rest] = messages.map(encodeMessage);
  expect(decodeFrame(encodeFrame(first as Uint8Array, rest))).toEqual(messages);
});

test('kind numbers are on the wire and never change', () => {
  expect(SwimKind).toEqual({ PING: 0, PING_REQ: 1, ACK: 2, NACK: 3, ALIVE: 4, SUSPECT: 5, DEAD: 6, LEFT: 7, PUSH_PULL: 8 });
});

test('truncated frames and unknown kinds are MalformedMessageError', () => {
  const ping = encodeMessage({ kind: SwimKind.PING, seq: 1, target: 'node' });
  expect(() => decodeFrame(ping.subarray(0, ping.length - 1))).toThrow(MalformedMessageError);
  expect(() => decodeFrame(Uint8Array.of(200))).toThrow(/message kind 200 is not one this node knows/);
  expect(() => decodeFrame(new Uint8Array(0))).toThrow(MalformedMessageError);
});

test('push-pull of 5000 members is split into parts under the limit; only the first asks for an answer', () => {
  const members: PushPullMember[] = Array.from({ length: 5000 }, (_, i) => ({ id: `node-${i}`, address, incarnation: i, state: 'alive' }));
  const parts = encodePushPull(false, true, members, 4096);
  expect(parts.length).toBeGreaterThan(10);
  for (const p of parts) expect(p.length).toBeLessThanOrEqual(4096);
  const decoded = parts.map((p) => decodeFrame(p)[0]).map((m) => m as Extract<SwimMessage, { kind: 8 }>);
  expect(decoded.map((m) => m.answer)).toEqual(decoded.map((_, i) => i === 0));
  expect(decoded.flatMap((m) => m.members)).toEqual(members);
});
