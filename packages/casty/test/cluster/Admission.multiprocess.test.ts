// A flood of connections that never complete a handshake, at a node process whose file limit is low: the
// pending-handshake caps keep file descriptors free, so a new node still joins and is served during the flood
// (before the caps, the flood held every descriptor and the node could neither accept nor dial a new member).

import * as net from 'node:net';
import { ClusterConfig, clustered } from 'casty';
import type { ClusteredActorSystem } from 'casty';
import { CapturingLogger, waitUntil } from '@casty/cluster/testing';
import { ChildNode, killAll } from './children';
import { Echo } from './fixtures/protocol';
import type { ServiceMsg } from './fixtures/protocol';

jest.setTimeout(60_000);

const FILE_LIMIT = 512;
const systems: ClusteredActorSystem[] = [];
const flood = new Set<net.Socket>();
let flooding = false;

afterEach(async () => {
  flooding = false;
  for (const socket of flood) socket.destroy();
  flood.clear();
  await Promise.all(systems.splice(0).map((s) => s.shutdown()));
  await killAll();
});

/** Keeps `target` idle connections open at `port` from 24 loopback addresses, replacing each one the node closes. */
function keepFlooding(port: number, target: number): { opened: () => number } {
  let opened = 0;
  const open = (): void => {
    if (!flooding) return;
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: `127.0.0.${2 + (opened++ % 24)}` });
    flood.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      flood.delete(socket);
      setImmediate(open);
    });
  };
  flooding = true;
  for (let i = 0; i < target; i++) open();
  return { opened: () => opened };
}

test(`at a file limit of ${FILE_LIMIT}, a node keeps admitting members through a flood of idle connections`, async () => {
  // Production preset: handshakes time out after 5 s, so only admission control frees descriptors sooner.
  const a = await ChildNode.start({ nodeId: 'a', preset: 'production' }, { prefix: ['prlimit', `--nofile=${FILE_LIMIT}:${FILE_LIMIT}`] });
  const counter = keepFlooding(a.port, 3 * FILE_LIMIT);
  await waitUntil('the flood has opened several times the file limit', () => counter.opened() >= 6 * FILE_LIMIT, 20_000,
    () => counter.opened());

  const logger = new CapturingLogger();
  const started = Date.now();
  const t = await clustered({ nodeId: 't', seeds: [a.address], config: ClusterConfig.development({ logger }) });
  systems.push(t);
  await waitUntil('the new node joins during the flood', () => t.members().length === 2, 10_000,
    () => [t.members().map((m) => m.nodeId), logger.entries.slice(-3)]);
  const service = await t.lookup<ServiceMsg>('service-a');
  expect(await service?.ask(new Echo('through the flood'))).toBe('a: through the flood');
  const joinedMs = Date.now() - started;
  expect(flooding).toBe(true);
  expect(flood.size).toBeGreaterThan(FILE_LIMIT);
  // eslint-disable-next-line no-console
  console.log(`joined and answered in ${joinedMs} ms while ${flood.size} flood connections were open ` +
    `(${counter.opened()} opened so far) at a node with a file limit of ${FILE_LIMIT}`);
  expect(a.alive).toBe(true);
});
