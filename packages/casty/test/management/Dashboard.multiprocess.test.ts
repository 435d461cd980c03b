// The dashboard in a real headless Chromium (the machine's own, driven over the DevTools pipe; the test is
// skipped, saying why, where there is none), on a real three-node cluster of child processes (fixtures/node.ts,
// development preset, sharded accounts and a singleton, some load): the page loads with no console error and
// no failed request, shows the three members alive with their shards, entities and where the singleton runs,
// then shows node-c down after it is SIGKILLed. The last screenshot is kept in test-artifacts/dashboard.png.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitUntil } from '@casty/core/testing';
import { ChildNode, killAll } from '../cluster/children';
import { Chromium, findChromium } from './Chromium';
import type { Page } from './Chromium';

jest.setTimeout(90_000);

const chromium = findChromium();
const artifacts = join(__dirname, '..', '..', '..', '..', 'test-artifacts');
if (chromium === undefined) {
  process.stdout.write('[dashboard] SKIPPED: no chromium (looked at $CHROMIUM, /usr/bin/chromium, /usr/bin/chromium-browser, ' +
    '/usr/bin/google-chrome); install Debian\'s package with `apt-get install -y chromium` (.ci/run does) to run this test\n');
}

afterEach(killAll);

const ids = Array.from({ length: 24 }, (_, i) => `acct-${i}`);

(chromium === undefined ? test.skip : test)('shows a three-node cluster, then a node down after a SIGKILL, with no console error', async () => {
  const a = await ChildNode.start({ nodeId: 'node-a', sharded: true, management: true });
  const [b, c] = await Promise.all(['node-b', 'node-c'].map((nodeId) => ChildNode.start({ nodeId, seeds: [a.address], sharded: true })));
  const nodes = [a, b!, c!];
  await waitUntil('every node sees three members', async () => (await Promise.all(nodes.map((n) => n.request('members'))))
    .every((r) => (r.view as string[]).filter((m) => m.includes('=alive@')).length === 3), 30_000);
  await Promise.all(nodes.map((n) => n.request('singleton-spawn')));
  await a.request('singleton-tick');
  await a.request('entity-add', { ids });
  await b!.request('load-start', { ids, paceMs: 20 });

  const browser = Chromium.launch(chromium!);
  let page: Page | undefined;
  const shot = async () => {
    if (page === undefined) return;
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, 'dashboard.png'), await page.screenshot());
  };
  const state = async () => ({ errors: page?.errors, nodes: await page?.evaluate(
    `[...document.querySelectorAll('[data-node]')].map((e) => e.dataset.node + '=' + e.dataset.state)`).catch(String) });
  try {
    page = await browser.open(`${a.managementUrl!}/`);
    const dom = <T>(expression: string) => () => page!.evaluate<T>(expression);
    await waitUntil('the page shows three members alive', dom(
      `document.querySelectorAll('[data-node][data-state="alive"]').length === 3`), 30_000, state);
    await waitUntil('the page shows shards and entities on each node, and the singleton on one', dom(`(() => {
      const rows = [...document.querySelectorAll('[data-sharding-node]')];
      const singletonOn = rows.filter((r) => r.lastElementChild.textContent === 'scheduler');
      return rows.length === 3 && singletonOn.length === 1;
    })()`), 30_000, state);
    await waitUntil('the page shows message rates', dom(
      `[...document.querySelectorAll('[data-node] .figures b')].some((b) => parseFloat(b.textContent) > 0)`), 30_000, state);
    expect(await page.evaluate(`document.querySelectorAll('[data-event="up"]').length >= 3`)).toBe(true);
    await shot();

    await c!.kill('SIGKILL');
    await waitUntil('the page shows node-c down', dom(
      `document.querySelector('[data-node="node-c"]')?.dataset.state === 'dead'`), 30_000, state);
    await waitUntil('the timeline shows node-c going down', dom(
      `document.querySelector('[data-event="down"][data-event-node="node-c"]') !== null`), 10_000, state);
    expect(await page.evaluate(`document.querySelectorAll('[data-node][data-state="alive"]').length`)).toBe(2);
    await shot();
    expect(page.errors).toEqual([]);
  } finally {
    await shot().catch(() => undefined);
    await browser.close();
  }
});
