// The layering rules of the packages, checked on their sources and exports: what users import stays small, the
// cluster reaches the runtime only through its seams, and gossip does not borrow from membership's files.

import fs from 'node:fs';
import path from 'node:path';
import * as cluster from '@casty/cluster';
import * as clusterInternal from '@casty/cluster/internal';

const root = path.resolve(__dirname, '../../..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(full));
    else if (entry.name.endsWith('.ts')) out.push(full);
  }
  return out;
}

const clusterSources = sources(path.join(root, 'packages/cluster/src'));

test('@casty/cluster exports what users call; the protocol machinery is in @casty/cluster/internal', () => {
  const internals = ['Swim', 'Gossip', 'GossipState', 'VectorClock', 'ProtocolId', 'encodeFrame', 'FrameDecoder',
    'EnvelopeKind', 'SwimKind', 'GossipKind', 'ByteWriter', 'ByteReader', 'TransmitLimitedQueue', 'retransmitLimit',
    'parseAddress', 'nameKey', 'transition', 'WarningLimiter'];
  for (const name of internals) {
    expect({ name, public: name in cluster }).toEqual({ name, public: false });
    expect({ name, internal: name in clusterInternal }).toEqual({ name, internal: true });
  }
  for (const name of ['ClusterConfig', 'ClusteredActorSystem', 'ClusterMembership', 'RemoteMessaging', 'MemberUp',
    'MemberDown', 'NodeUnavailableError', 'TcpTransport', 'SwimConfig', 'GossipConfig', 'MemberState']) {
    expect({ name, public: name in cluster }).toEqual({ name, public: true });
  }
});

test('one Logger type: the cluster has no logger interface of its own', () => {
  expect('consoleTransportLogger' in cluster).toBe(false);
  const ownLoggers = clusterSources.filter((f) => /\binterface \w*Logger\b/.test(fs.readFileSync(f, 'utf8')));
  expect(ownLoggers).toEqual([]);
});

test('the cluster reaches local actors through LocalActorRef\'s seam, never through their cells', () => {
  const reaching = clusterSources.filter((f) => /\.cell\b/.test(fs.readFileSync(f, 'utf8')))
    .map((f) => path.relative(root, f));
  expect(reaching).toEqual([]);
});

test('gossip and the other layers use the shared helpers in internal/, not membership\'s files (bar its member types)', () => {
  const borrowing = clusterSources
    .filter((f) => !f.includes(`${path.sep}membership${path.sep}`))
    .flatMap((f) => [...fs.readFileSync(f, 'utf8').matchAll(/from '(?:\.\.?\/)+membership\/(\w+)'/g)]
      .map((m) => `${path.relative(root, f)} -> membership/${m[1]}`))
    .filter((edge) => !/membership\/(MemberState|Swim|SwimConfig|events|errors|suspicion|messages)$/.test(edge));
  expect(borrowing).toEqual([]);
});
