// ringMembers: alive and suspect members own shards (a suspicion moves nothing), dead and left ones do not.

import { MemberState } from '@casty/cluster';
import { HashRing, ringMembers } from '../src';

test('keeps alive and suspect members, drops dead and left ones', () => {
  const members = [
    { id: 'a', state: MemberState.ALIVE },
    { id: 'b', state: MemberState.SUSPECT },
    { id: 'c', state: MemberState.DEAD },
    { id: 'd', state: MemberState.LEFT },
    { id: 'e', state: MemberState.ALIVE },
  ];
  expect(ringMembers(members)).toEqual(['a', 'b', 'e']);
  expect(ringMembers([])).toEqual([]);
});

test('a suspicion changes no owner; a down does', () => {
  const view = ['a', 'b', 'c'].map((id) => ({ id, state: MemberState.ALIVE as MemberState }));
  const before = HashRing.of(ringMembers(view));
  view[1] = { id: 'b', state: MemberState.SUSPECT };
  expect(HashRing.of(ringMembers(view)).equals(before)).toBe(true);
  view[1] = { id: 'b', state: MemberState.DEAD };
  expect(HashRing.of(ringMembers(view)).members).toEqual(['a', 'c']);
});
