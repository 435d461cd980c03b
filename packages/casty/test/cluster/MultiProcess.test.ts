// Clustered systems in separate processes: this test process is one node (casty from its sources), the
// others are real child processes running fixtures/node.ts against the built packages. Lookups and asks
// both ways, refs inside messages, two and three nodes, a SIGKILLed node failing asks fast and coming back,
// the cluster secret, and TLS. Conditions are awaited, never slept on; every child is killed after each test.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClusterConfig, clustered, HandshakeError, NodeUnavailableError } from 'casty';
import type { ClusterConfigOptions, ClusteredActorSystem } from 'casty';
import { CapturingLogger, waitUntil } from '@casty/cluster/testing';
import { ChildNode, killAll } from './children';
import { CountMembers, Echo, GetGreetings, Greet, Ignore, Inbox, Probe, Service } from './fixtures/protocol';
import type { ServiceMsg } from './fixtures/protocol';

jest.setTimeout(60_000);

const SECRET = 'the multi-process cluster secret';
const locals: ClusteredActorSystem[] = [];

/** A node in this process, serving `service-<nodeId>` and `inbox-<nodeId>` like the children do. */
async function localNode(nodeId: string, seeds: string[], options: ClusterConfigOptions = {}):
  Promise<{ system: ClusteredActorSystem; logger: CapturingLogger }> {
  const logger = new CapturingLogger();
  const system = await clustered({ nodeId, seeds, config: ClusterConfig.development({ logger, ...options }) });
  locals.push(system);
  await system.spawn(Service, { name: `service-${nodeId}`, args: [nodeId, () => system.members().length] });
  await system.spawn(Inbox, { name: `inbox-${nodeId}` });
  return { system, logger };
}

async function lookupService(system: ClusteredActorSystem, nodeId: string) {
  const ref = await system.lookup<ServiceMsg>(`service-${nodeId}`);
  if (ref === undefined) throw new Error(`service-${nodeId} not found from ${system.nodeId}`);
  return ref;
}

async function members(system: ClusteredActorSystem, count: number): Promise<void> {
  await waitUntil(`${system.nodeId} sees ${count} members`, () => system.members().length === count, 15_000,
    () => system.members().map((m) => m.nodeId));
}

afterEach(async () => {
  await Promise.all(locals.splice(0).map((s) => s.shutdown()));
  await killAll();
});

test('two processes: lookup and ask both ways, and a reply-to ref crossing them', async () => {
  const a = await ChildNode.start({ nodeId: 'a' });
  const { system: t } = await localNode('t', [a.address]);
  await members(t, 2);

  const service = await lookupService(t, 'a');
  expect(await service.ask(new Echo('hi'))).toBe('a: hi');
  // The other way: a looks up t's service and asks it, answering through t's ask.
  expect(await service.ask(new Probe('service-t', 'back'))).toBe('t: back');
  // A ref inside a message: a answers t's inbox directly.
  const inbox = await t.lookup<GetGreetings>('inbox-t');
  await service.send(new Greet('T', inbox as never));
  await waitUntil('the greeting from a reaches t', async () => (await inbox!.ask(new GetGreetings())).length === 1);
  expect(await inbox!.ask(new GetGreetings())).toEqual(['Hello, T, from a!']);
});

test('three processes: a node joining through one seed learns the third; asks between all of them', async () => {
  const a = await ChildNode.start({ nodeId: 'a' });
  const b = await ChildNode.start({ nodeId: 'b', seeds: [a.address] });
  const { system: t } = await localNode('t', [b.address]);
  await members(t, 3);
  const atA = await lookupService(t, 'a');
  const atB = await lookupService(t, 'b');
  await waitUntil('a sees all three', async () => (await atA.ask(new CountMembers())) === 3);

  expect(await atA.ask(new Echo('direct'))).toBe('a: direct');            // learned from b's peer list
  expect(await atB.ask(new Probe('service-a', 'via b'))).toBe('a: via b'); // b -> a
  expect(await atA.ask(new Probe('service-b', 'via a'))).toBe('b: via a'); // a -> b
  expect(await atA.ask(new Probe('service-t', 'home'))).toBe('t: home');   // a -> t

  const inbox = await t.lookup<GetGreetings>('inbox-t');
  await atB.send(new Greet('T', inbox as never));
  await waitUntil('b greets t', async () => (await inbox!.ask(new GetGreetings())).length === 1);
});

test('a SIGKILLed node fails the asks waiting on it at once; restarted on its port with its id, it is reconnected', async () => {
  const k = await ChildNode.start({ nodeId: 'k' });
  const { system: t } = await localNode('t', [k.address]);
  await members(t, 2);
  const service = await lookupService(t, 'k');
  expect(await service.ask(new Echo('before'))).toBe('k: before');

  const started = Date.now();
  const pending = [1, 2, 3].map(() => service.ask(new Ignore(), { timeout: 30_000 }).then(() => undefined, (e: unknown) => e));
  await waitUntil('k holds three asks', () => t.remote.pendingRequests === 3);
  await k.kill('SIGKILL');
  const errors = await Promise.all(pending);
  const elapsed = Date.now() - started;
  for (const error of errors) expect(error).toBeInstanceOf(NodeUnavailableError);
  expect(elapsed).toBeLessThan(5_000); // their timeout is 30 s
  expect((errors[0] as NodeUnavailableError).nodeId).toBe('k');

  await ChildNode.start({ nodeId: 'k', port: k.port });
  await waitUntil('asks through the same ref succeed again',
    () => service.ask(new Echo('after'), { timeout: 2_000 }).then((v) => v === 'k: after', () => false), 20_000);
});

test('a node with a wrong or missing cluster secret is refused; one with the secret is let in', async () => {
  const s = await ChildNode.start({ nodeId: 's', secret: SECRET });
  const wrong = await localNode('wrong', [s.address], { secret: 'not the secret of this cluster' });
  const none = await localNode('none', [s.address]);
  await waitUntil('both are refused for authentication',
    () => [wrong.logger, none.logger].every((l) => l.errorsOf(HandshakeError).some((e) => e.reason === 'AUTHENTICATION_FAILED')),
    15_000, () => [wrong.logger.entries.slice(-3), none.logger.entries.slice(-3)]);
  expect(wrong.system.members()).toHaveLength(1);
  expect(await wrong.system.lookup('service-s')).toBeUndefined();

  const { system: right } = await localNode('right', [s.address], { secret: SECRET });
  await members(right, 2);
  expect(await (await lookupService(right, 's')).ask(new Echo('let in'))).toBe('s: let in');
});

describe('TLS', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'casty-mp-tls-'));
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'];
    fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
    openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=casty-mp-ca');
    openssl('req', ...ec, '-keyout', 'node.key', '-out', 'node.csr', '-subj', '/CN=casty-mp-node');
    openssl('x509', '-req', '-in', 'node.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
      '-out', 'node.crt', '-days', '1', '-extfile', 'ext.cnf');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('processes talk over mutual TLS with a private CA; a plain-TCP node gets nothing', async () => {
    const files = { key: path.join(dir, 'node.key'), cert: path.join(dir, 'node.crt'), ca: path.join(dir, 'ca.crt') };
    const a = await ChildNode.start({ nodeId: 'a', tls: files });
    const { system: t } = await localNode('t', [a.address], {
      tls: { key: { file: files.key }, cert: { file: files.cert }, ca: { file: files.ca }, mutual: true },
    });
    await members(t, 2);
    const service = await lookupService(t, 'a');
    expect(await service.ask(new Probe('service-t', 'over TLS'))).toBe('t: over TLS');

    const plain = await localNode('plain', [a.address]);
    await waitUntil('the plain node fails to connect', () => plain.logger.entries.some((e) => e.message.includes('Could not connect')),
      15_000, () => plain.logger.entries.slice(-3));
    expect(plain.system.members()).toHaveLength(1);
  });
});
