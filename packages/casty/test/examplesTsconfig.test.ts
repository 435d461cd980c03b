// examples/tsconfig.json is what a user copies to start their own code next to the examples: it must check
// files in subfolders too, not only the top-level ones (a user's `examples/app/*.ts` passed with 32 errors).
// The config is parsed in a copy of its directory layout, with a file in a subfolder, so nothing is written
// into the repository.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';

const root = join(__dirname, '..', '..', '..');

test('examples/tsconfig.json includes .ts files in subfolders, and not node_modules', () => {
  const dir = mkdtempSync(join(tmpdir(), 'casty-examples-tsconfig-'));
  try {
    copyFileSync(join(root, 'tsconfig.base.json'), join(dir, 'tsconfig.base.json'));
    const examples = join(dir, 'examples');
    mkdirSync(join(examples, 'app', 'actors'), { recursive: true });
    mkdirSync(join(examples, 'node_modules', 'dep'), { recursive: true });
    copyFileSync(join(root, 'examples', 'tsconfig.json'), join(examples, 'tsconfig.json'));
    for (const file of ['top.ts', 'app/main.ts', 'app/actors/worker.ts', 'node_modules/dep/index.ts']) {
      writeFileSync(join(examples, file), 'export {};\n');
    }
    const parsed = ts.getParsedCommandLineOfConfigFile(join(examples, 'tsconfig.json'), {}, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); },
    });
    expect(parsed?.errors).toEqual([]);
    const files = (parsed?.fileNames ?? []).map((f) => f.slice(examples.length + 1)).sort();
    expect(files).toEqual(['app/actors/worker.ts', 'app/main.ts', 'top.ts']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
