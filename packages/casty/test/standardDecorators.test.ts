// tsx without a tsconfig compiles decorators as TC39 standard decorators, which would leave every @handle
// method unregistered (the first message failing with UnhandledMessageError). Casty's decorators notice the
// standard call shape and throw DecoratorModeError when the class is defined, saying how to turn on
// experimentalDecorators. Run as a user would: tsx in a directory with no tsconfig.json, then with one.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DecoratorModeError, handle, message, persistent, supervised } from 'casty';

const tsxCli = require.resolve('tsx/cli');
// the built package, as a user's program gets it (Jest's resolver would map 'casty' to the sources)
const castyEntry = pathToFileURL(join(__dirname, '..', 'dist', 'index.js')).href;

function runTsx(cwd: string, file: string, env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const childEnv = { ...process.env, ...env };
    if (env.TSX_TSCONFIG_PATH === undefined) delete childEnv.TSX_TSCONFIG_PATH;
    execFile(process.execPath, [tsxCli, file], { cwd, env: childEnv, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });
}

describe('Casty decorators compiled as standard decorators', () => {
  let dir: string;
  beforeAll(() => {
    // outside the workspace, so tsx finds no tsconfig.json above it
    dir = mkdtempSync(join(tmpdir(), 'casty-decorators-'));
    writeFileSync(join(dir, 'program.ts'), [
      `import { Actor, ActorSystem, handle, message, Request } from '${castyEntry}';`,
      `@message() class Ping extends Request<string> {}`,
      `class Echo extends Actor<Ping> { @handle(Ping) ping(): string { return 'pong'; } }`,
      `const system = ActorSystem.create();`,
      `const echo = await system.spawn(Echo);`,
      `console.log(await echo.ask(new Ping()));`,
      `await system.shutdown();`,
    ].join('\n'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(join(dir, 'tsconfig.casty.json'), JSON.stringify({ compilerOptions: { experimentalDecorators: true } }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('tsx with no tsconfig: the program stops when the class is defined, and the error says what to set', async () => {
    const result = await runTsx(dir, 'program.ts');
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('DecoratorModeError');
    expect(result.stderr).toContain('@message() on class Ping was compiled as a standard (TC39) decorator');
    expect(result.stderr).toContain('"experimentalDecorators": true');
    expect(result.stderr).toContain('TSX_TSCONFIG_PATH');
  }, 30_000);

  test('the fix the error names works: the same program with TSX_TSCONFIG_PATH answers the ask', async () => {
    const result = await runTsx(dir, 'program.ts', { TSX_TSCONFIG_PATH: join(dir, 'tsconfig.casty.json') });
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('pong');
    expect(result.code).toBe(0);
  }, 30_000);

  test.each([
    ['@message()', () => (message() as (...args: unknown[]) => unknown)(class A {}, { kind: 'class', name: 'A' })],
    ['@supervised()', () => (supervised() as (...args: unknown[]) => unknown)(class B {}, { kind: 'class', name: 'B' })],
    ['@persistent()', () => (persistent('x') as (...args: unknown[]) => unknown)(class C {}, { kind: 'class', name: 'C' })],
    ['@handle(Object)', () => (handle(Object) as (...args: unknown[]) => unknown)(function m() {}, { kind: 'method', name: 'm' })],
  ])('%s rejects the standard call shape with DecoratorModeError', (name, decorate) => {
    expect(decorate).toThrow(DecoratorModeError);
    expect(decorate).toThrow(`${name} on `);
  });
});
