// The transition table: every allowed transition, and invalid ones fail with an error naming them.

import { InvalidTransitionError } from '../../src/membership/errors';
import { allowedTransitions, canTransition, MemberState, transition } from '../../src/membership/MemberState';

const states = Object.values(MemberState);

test('the allowed transitions, exactly', () => {
  expect(allowedTransitions().map(([f, t]) => `${f}->${t}`).sort()).toEqual([
    'alive->dead', 'alive->left', 'alive->suspect', 'dead->alive', 'left->alive', 'suspect->alive', 'suspect->dead', 'suspect->left',
  ]);
  for (const [from, to] of allowedTransitions()) expect(transition(from, to)).toBe(to);
});

test('every other pair is invalid and the error names it', () => {
  const allowed = new Set(allowedTransitions().map(([f, t]) => `${f}->${t}`));
  for (const from of states) {
    for (const to of states) {
      if (allowed.has(`${from}->${to}`)) continue;
      expect(canTransition(from, to)).toBe(false);
      expect(() => transition(from, to, 'n7')).toThrow(InvalidTransitionError);
    }
  }
  try {
    transition('dead', 'left', 'n7');
    throw new Error('expected a throw');
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidTransitionError);
    expect((err as InvalidTransitionError).code).toBe('INVALID_MEMBER_TRANSITION');
    expect((err as Error).message).toMatch(/^Member 'n7' cannot go from dead to left;/);
  }
});
