// The lint config (eslint.config.mjs) must keep its two rules on: each fixture in fixtures/lint breaks one
// of them on a line that carries an eslint-disable comment (so `npm run lint` passes), and here ESLint
// reads them with inline config off, so each rule has to report its line. ESLint loads its config with a
// dynamic import, which jest's module sandbox refuses, so it runs in a child process. The fixtures have a
// tsconfig.json of their own, so the typed rules load a two-file program instead of the whole workspace.
import { execFile } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');

const script = `
const { ESLint } = require('eslint');
new ESLint({ cwd: process.cwd(), allowInlineConfig: false })
  .lintFiles(process.argv.slice(1))
  .then((results) => console.log(JSON.stringify(results.map((r) => ({
    file: require('node:path').basename(r.filePath),
    messages: r.messages.map((m) => ({ rule: m.ruleId, line: m.line })),
  })))))
  .catch((e) => { console.error(e); process.exit(1); });
`;

function lint(files: string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script, ...files], { cwd: root, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`eslint failed: ${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

test('eslint reports a floating promise and a value import of a type', async () => {
  const dir = join('packages', 'casty', 'test', 'fixtures', 'lint');
  expect(await lint([join(dir, 'floating-promise.ts'), join(dir, 'value-import-of-a-type.ts')])).toEqual([
    { file: 'floating-promise.ts', messages: [{ rule: '@typescript-eslint/no-floating-promises', line: 6 }] },
    { file: 'value-import-of-a-type.ts', messages: [{ rule: '@typescript-eslint/consistent-type-imports', line: 3 }] },
  ]);
});
