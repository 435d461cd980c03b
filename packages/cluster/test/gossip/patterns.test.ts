// Glob patterns for subscriptions: '*' within a segment, '**' across, '?' one character, the rest literal.

import { InvalidArgumentError } from '@casty/core';
import { matchesPattern } from '../../src/gossip/patterns';

test.each([
  ['actors/*', 'actors/greeter', true],
  ['actors/*', 'actors/a/b', false],
  ['actors/**', 'actors/a/b', true],
  ['actors/?', 'actors/x', true],
  ['actors/?', 'actors/xy', false],
  ['actors/*.v1', 'actors/x.v1', true],
  ['actors/*.v1', 'actors/xv1', false],
  ['a+b/(c)', 'a+b/(c)', true],
  ['**', 'anything/at/all', true],
  ['actors', 'actors/x', false],
])('%s matches %s: %s', (pattern, key, expected) => {
  expect(matchesPattern(pattern, key)).toBe(expected);
});

test('an empty pattern is an InvalidArgumentError', () => {
  expect(() => matchesPattern('', 'x')).toThrow(InvalidArgumentError);
});
