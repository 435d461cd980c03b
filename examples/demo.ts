// The main job of `npm run demo`: runs every example in turn, each in its own process, as a user would.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const examples = ['quickstart', 'message-patterns', 'lifecycle', 'state-machine', 'combining-refs', 'hierarchies', 'supervision', 'two-nodes'];
let failed = 0;
for (const name of examples) {
  console.log(`\n=== ${name} ===`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(here, `${name}.ts`)], {
    stdio: 'inherit',
    env: { ...process.env, TSX_TSCONFIG_PATH: join(here, 'tsconfig.json') },
  });
  if (run.status !== 0) failed++;
}
process.exitCode = failed === 0 ? 0 : 1;
