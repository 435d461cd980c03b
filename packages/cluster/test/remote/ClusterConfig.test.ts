// ClusterConfig presets and validation, and the seeds of ClusteredActorSystem.start: a wrong option is
// refused at the call with an InvalidArgumentError that names it.

import { InvalidArgumentError, silentLogger } from '@casty/core';
import { ClusterConfig, ClusteredActorSystem } from '@casty/cluster';
import { parseAddress } from '@casty/cluster/internal';
import { InMemoryNetwork } from '@casty/cluster/testing';

function refusal(make: () => unknown): string {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return (error as Error).message;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe('ClusterConfig', () => {
  test('production and development presets differ where they should, and take overrides', () => {
    const production = ClusterConfig.production();
    const development = ClusterConfig.development();
    expect(production).toMatchObject({ clusterName: 'casty', connectTimeoutMs: 5_000, askTimeoutMs: 10_000,
      reconnect: { initialDelayMs: 100, maxDelayMs: 10_000 } });
    expect(development).toMatchObject({ connectTimeoutMs: 2_000, askTimeoutMs: 5_000,
      reconnect: { initialDelayMs: 50, maxDelayMs: 1_000 } });
    const tuned = ClusterConfig.development({ askTimeoutMs: 250, clusterName: 'shop', reconnect: { initialDelayMs: 5_000 } });
    expect(tuned).toMatchObject({ askTimeoutMs: 250, clusterName: 'shop', connectTimeoutMs: 2_000,
      reconnect: { initialDelayMs: 5_000, maxDelayMs: 5_000 } });
    expect(ClusterConfig.from(tuned)).toBe(tuned);
    expect(ClusterConfig.from({ askTimeoutMs: 1 }).connectTimeoutMs).toBe(5_000); // fields go over production
    expect(production.lookupTimeoutMs).toBe(2_000);
    expect(tuned.lookupTimeoutMs).toBe(250); // never longer than an ask
    expect(ClusterConfig.production({ lookupTimeoutMs: 700 }).lookupTimeoutMs).toBe(700);
  });

  test('transportConfig carries the cluster fields and the node endpoint, without undefined fields', () => {
    const config = ClusterConfig.production({ secret: 'a secret of sixteen bytes or more', logger: silentLogger });
    const transport = config.transportConfig({ nodeId: 'n1', host: '127.0.0.1', port: 0, advertiseHost: undefined });
    expect(transport).toMatchObject({ clusterName: 'casty', nodeId: 'n1', port: 0, connectTimeoutMs: 5_000,
      secret: 'a secret of sixteen bytes or more', insecure: false, idleTimeoutMs: 60_000, maxPendingHandshakes: 256,
      maxPendingHandshakesPerAddress: 16 });
    expect(ClusterConfig.development({ idleTimeoutMs: 5_000, maxPendingHandshakes: 9, maxPendingHandshakesPerAddress: 3,
      insecure: true }).transportConfig({})).toMatchObject({ idleTimeoutMs: 5_000, maxPendingHandshakes: 9,
      maxPendingHandshakesPerAddress: 3, insecure: true });
    expect('advertiseHost' in transport).toBe(false);
    expect('tls' in transport).toBe(false);
  });

  test.each([
    [{ askTimeoutMs: 0 }, /^ClusterConfig\.askTimeoutMs must be an integer from 1/],
    [{ connectTimeoutMs: 'soon' }, /^ClusterConfig\.connectTimeoutMs must be an integer/],
    [{ handshakeTimeoutMs: -5 }, /^ClusterConfig\.handshakeTimeoutMs/],
    [{ secret: 'short' }, /^ClusterConfig\.secret must be at least 16 bytes, got '5 bytes'/],
    [{ clusterName: '' }, /^ClusterConfig\.clusterName must be a non-empty string/],
    [{ reconnect: { multiplier: 0 } }, /^ClusterConfig\.reconnect\.multiplier/],
    [{ reconnect: { retries: 3 } }, /^ClusterConfig\.reconnect has no option 'retries'/],
    [{ tls: { key: { file: '/no/such/key.pem' }, cert: { pem: 'x' } } }, /^ClusterConfig\.tls\.key\.file must be a readable file/],
    [{ askTimeout: 5_000 }, /^ClusterConfig has no option 'askTimeout'; known options are .*askTimeoutMs/],
    [{ logger: { warn() {} } }, /^ClusterConfig\.logger must be a Logger \(an object with debug, warn and error methods\); it has no debug, error$/],
    [{ logger: { debug() {}, warn() {}, error() {}, bindings() {}, levels: { values: {} } } },
      /^ClusterConfig\.logger: this logger looks like pino, .* pass pinoLogger\(yourPinoLogger\)/],
    [{ idleTimeoutMs: 500 }, /^ClusterConfig\.idleTimeoutMs must be an integer from 1000/],
    [{ lookupTimeoutMs: 0 }, /^ClusterConfig\.lookupTimeoutMs must be an integer from 1/],
    [{ maxPendingHandshakes: 0 }, /^ClusterConfig\.maxPendingHandshakes must be an integer from 1/],
    [{ maxPendingHandshakesPerAddress: 2.5 }, /^ClusterConfig\.maxPendingHandshakesPerAddress must be an integer/],
    [{ insecure: 'yes' }, /^ClusterConfig\.insecure must be a boolean/],
  ])('%j is refused, naming the field', (options, expected) => {
    expect(refusal(() => ClusterConfig.development(options as never))).toMatch(expected);
  });

  test('seeds must be host:port; a wrong one is refused naming its index, before anything starts', async () => {
    expect(parseAddress('10.0.0.2:7946', 'seed')).toEqual({ host: '10.0.0.2', port: 7946 });
    expect(parseAddress('[::1]:80', 'seed')).toEqual({ host: '::1', port: 80 });
    expect(refusal(() => parseAddress('localhost', 'seeds[0]'))).toMatch(/^seeds\[0\] must be 'host:port'.*got "localhost"/);
    const transport = new InMemoryNetwork().createTransport({ nodeId: 'x' });
    await expect(ClusteredActorSystem.start(transport, { seeds: ['127.0.0.1:1', 'nohost:99999'] }))
      .rejects.toThrow(/^seeds\[1\] must be 'host:port'/);
    expect(transport.isRunning).toBe(false);
  });
});
