// The secure defaults of `clustered()`, in this process over real sockets: a node bound to a non-loopback
// address needs credentials or the explicit opt-out, and TLS is mutual unless turned off, so a node whose
// certificate the cluster's CA did not sign never joins nor reaches a named actor.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClusterConfig, clustered, InvalidArgumentError } from 'casty';
import type { ClusterConfigOptions, ClusteredActorSystem } from 'casty';
import { CapturingLogger, waitUntil } from '@casty/cluster/testing';
import { GetGreetings, Greeting, Inbox } from './fixtures/protocol';

const systems: ClusteredActorSystem[] = [];
afterEach(async () => {
  await Promise.all(systems.splice(0).map((s) => s.shutdown()));
});

async function node(nodeId: string, seeds: string[], options: ClusterConfigOptions, host?: string):
  Promise<{ system: ClusteredActorSystem; logger: CapturingLogger }> {
  const logger = new CapturingLogger();
  const system = await clustered({ nodeId, seeds, ...(host === undefined ? {} : { host, advertiseHost: '127.0.0.1' }),
    config: ClusterConfig.development({ logger, ...options }) });
  systems.push(system);
  return { system, logger };
}

test('clustered() on a non-loopback host without secret or tls is refused at the call, naming the fix', async () => {
  const refusal = clustered({ host: '0.0.0.0', advertiseHost: '127.0.0.1' });
  await expect(refusal).rejects.toBeInstanceOf(InvalidArgumentError);
  await expect(refusal).rejects.toThrow(/^clustered\(\) option host '0\.0\.0\.0' is not a loopback address and neither config\.secret nor config\.tls is set/);
  await expect(refusal).rejects.toThrow(/or set config\.insecure: true/);
  await expect(clustered({ config: { insecure: 1 as never } })).rejects.toThrow(/^ClusterConfig\.insecure must be a boolean/);

  // With a secret, or the explicit opt-out, it starts; the opt-out says so once.
  const { system: withSecret } = await node('s', [], { secret: 'a cluster secret of enough bytes' }, '0.0.0.0');
  const { system: open, logger } = await node('o', [withSecret.address.host + ':' + withSecret.address.port],
    { insecure: true }, '0.0.0.0');
  expect(logger.entries.filter((e) => e.level === 'warn' && e.message.includes('insecure: true'))).toHaveLength(1);
  expect(open.members()).toHaveLength(1); // no shared secret: the two are not one cluster
});

describe('TLS', () => {
  let dir: string;
  const file = (name: string) => ({ file: path.join(dir, name) });
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'casty-sec-tls-'));
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'];
    fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
    openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=casty-sec-ca');
    openssl('req', ...ec, '-keyout', 'node.key', '-out', 'node.csr', '-subj', '/CN=casty-sec-node');
    openssl('x509', '-req', '-in', 'node.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
      '-out', 'node.crt', '-days', '1', '-extfile', 'ext.cnf');
    openssl('req', '-x509', ...ec, '-keyout', 'rogue.key', '-out', 'rogue.crt', '-subj', '/CN=rogue',
      '-addext', 'subjectAltName=IP:127.0.0.1');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a node with a certificate from another CA never joins nor reaches a named actor; a good one does', async () => {
    const tls = { key: file('node.key'), cert: file('node.crt'), ca: file('ca.crt') };
    const { system: b } = await node('b', [], { tls });
    const inbox = await b.spawn(Inbox, { name: 'inbox-b' });
    const seed = `${b.address.host}:${b.address.port}`;

    const { system: rogue, logger: rogueLog } = await node('rogue', [seed],
      { tls: { key: file('rogue.key'), cert: file('rogue.crt'), ca: file('ca.crt') } });
    await waitUntil('the rogue node is refused', () => rogueLog.entries.some((e) => e.message.includes('Could not connect')),
      15_000, () => rogueLog.entries.slice(-3));

    const { system: good } = await node('good', [seed], { tls });
    await waitUntil('the good node joins', () => good.members().length === 2 && b.members().length === 2, 15_000,
      () => [good.members(), b.members()]);
    const goodRef = await good.lookup<Greeting>('inbox-b');
    expect(goodRef).toBeDefined();
    await goodRef!.send(new Greeting('from good'));
    await waitUntil('the good node\'s message arrives', async () => (await inbox.ask(new GetGreetings())).length === 1);

    expect(await rogue.lookup('inbox-b')).toBeUndefined();
    expect(rogue.members()).toHaveLength(1);
    expect(b.members().map((m) => m.nodeId).sort()).toEqual(['b', 'good']);
    expect(await inbox.ask(new GetGreetings())).toEqual(['from good']);
  });
});
