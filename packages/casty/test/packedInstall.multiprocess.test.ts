// The packages as a new user gets them: packed into tarballs (as `pnpm publish` would, workspace:* turned into
// versions), installed with npm into fresh projects outside the workspace, one ESM ("type": "module") and one
// CommonJS, next to the TypeScript a user installs today (7; 6 too), tsx and @types/node. A small program (a
// @message request, @handle methods, `import type { Context }`, `casty/testing`) then runs with tsx, with tsc
// (module nodenext, TypeScript 7's `tsc --init` defaults) then node, and as an esbuild ESM bundle; TypeScript 6
// checks it too, in the CommonJS project under the old node10 resolution. Needs the packages built, as the
// examples test does. npm takes what it can from its cache (--prefer-offline); without the registry and without
// a warm cache the suite is skipped, saying so.
import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const program = join(__dirname, 'fixtures', 'consumer', 'main.ts');
const PNPM = ['--yes', 'pnpm@10.34.9'];
/** What a user adds next to casty: today's TypeScript (7), the previous major under another name, tsx. */
const TOOLS = ['typescript@7', 'typescript6@npm:typescript@6', 'tsx@4', '@types/node'];
const NPM_FLAGS = ['--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'];
const EXPECTED = ['2 + 3 = 5', 'hello Ada from /user/calculator', 'manual clock at 1000 ms'];
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** A tsconfig as TypeScript 7's `tsc --init` writes it, plus what Casty asks for (experimentalDecorators). */
function tsconfig(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    compilerOptions: {
      module: 'nodenext', target: 'esnext', types: [], strict: true, verbatimModuleSyntax: true, isolatedModules: true,
      noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, moduleDetection: 'force',
      // stricter than --init (true): Casty's own .d.ts files must type-check in a user's program
      skipLibCheck: false,
      experimentalDecorators: true, rootDir: 'src', outDir: 'dist', ...overrides,
    },
    include: ['src'],
  }, null, 2);
}

/** Why the suite cannot run here, or undefined: npm needs its cache to hold the tools, or the registry. */
function unavailable(): string | undefined {
  const probe = mkdtempSync(join(tmpdir(), 'casty-npm-probe-'));
  try {
    writeFileSync(join(probe, 'package.json'), '{"name":"probe","private":true}');
    const offline = spawnSync(npm, ['install', '--offline', '--dry-run', ...NPM_FLAGS, ...TOOLS,
      'class-transformer@^0.5.1', 'reflect-metadata@^0.2.2'], { cwd: probe, timeout: 30_000, encoding: 'utf8' });
    if (offline.status === 0) return undefined;
    const ping = spawnSync(npm, ['ping', '--fetch-timeout=10000', '--fetch-retries=0'], { timeout: 20_000, encoding: 'utf8' });
    if (ping.status === 0) return undefined;
    const why = `${ping.stderr ?? ''}${ping.error?.message ?? ''}`.trim().split('\n').pop() ?? 'no answer';
    return `npm's cache lacks ${TOOLS.join(', ')} and the registry is unreachable (${why})`;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

type Result = { code: number; stdout: string; stderr: string };

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    delete childEnv.TSX_TSCONFIG_PATH;
    delete childEnv.NODE_OPTIONS;
    execFile(command, args, { cwd, env: childEnv, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });
}

/** Runs and expects success, failing with everything the command printed. */
async function ok(command: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const result = await run(command, args, cwd, env);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${result.code} in ${cwd}\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

const lines = (stdout: string): string[] => stdout.trim().split('\n');
const bin = (project: string, name: string): string => join(project, 'node_modules', '.bin', name);

const skipReason = unavailable();
if (skipReason !== undefined) console.warn(`packed install suite skipped: ${skipReason}`);

(skipReason === undefined ? describe : describe.skip)('the packed packages, installed with npm into fresh projects', () => {
  let dir: string;
  const esm = (): string => join(dir, 'esm');
  const cjs = (): string => join(dir, 'cjs');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'casty-packed-'));
    const tarballs = join(dir, 'tarballs');
    // the packages are built already (npm test bootstraps first), so their prepack build is not run again
    await ok('npx', [...PNPM, '-r', '--filter', './packages/**', 'pack', '--pack-destination', tarballs], root,
      { npm_config_ignore_scripts: 'true' });
    const packed = readdirSync(tarballs).map((name) => join(tarballs, name));
    expect(packed.map((file) => file.slice(tarballs.length + 1)).sort())
      .toEqual(['casty-0.1.0.tgz', 'casty-cluster-0.1.0.tgz', 'casty-core-0.1.0.tgz', 'casty-replication-0.1.0.tgz',
        'casty-sharding-0.1.0.tgz']);
    await Promise.all([['esm', 'module'], ['cjs', 'commonjs']].map(async ([name, type]) => {
      const project = join(dir, name!);
      mkdirSync(join(project, 'src'), { recursive: true });
      writeFileSync(join(project, 'package.json'), JSON.stringify({ name: `${name}-user`, private: true, type }));
      // TypeScript 7 refuses `import` in a CommonJS file under verbatimModuleSyntax, whatever the package
      writeFileSync(join(project, 'tsconfig.json'), tsconfig(type === 'commonjs' ? { verbatimModuleSyntax: false } : {}));
      copyFileSync(program, join(project, 'src', 'main.ts'));
      await ok(npm, ['install', '--prefer-offline', ...NPM_FLAGS, ...packed, ...TOOLS], project);
    }));
  }, 120_000);

  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  test.each(['esm', 'cjs'])('%s project: tsx runs the program (tsconfig next to it)', async (kind) => {
    const project = kind === 'esm' ? esm() : cjs();
    expect(lines(await ok(bin(project, 'tsx'), ['src/main.ts'], project))).toEqual(EXPECTED);
  }, 60_000);

  test.each(['esm', 'cjs'])('%s project: TypeScript 7 compiles it (module nodenext) and node runs the output', async (kind) => {
    const project = kind === 'esm' ? esm() : cjs();
    expect(await ok(bin(project, 'tsc'), ['--version'], project)).toMatch(/^Version 7\./);
    await ok(bin(project, 'tsc'), ['-p', '.'], project);
    expect(lines(await ok(process.execPath, ['dist/main.js'], project))).toEqual(EXPECTED);
  }, 60_000);

  test('esm project: TypeScript 6 type-checks the program too', async () => {
    const tsc6 = join(esm(), 'node_modules', 'typescript6', 'bin', 'tsc');
    expect(await ok(process.execPath, [tsc6, '--version'], esm())).toMatch(/^Version 6\./);
    await ok(process.execPath, [tsc6, '-p', '.', '--noEmit'], esm());
  }, 60_000);

  test('cjs project: casty and casty/testing resolve under the old node10 resolution (TypeScript 6)', async () => {
    writeFileSync(join(cjs(), 'tsconfig.node10.json'), JSON.stringify({
      compilerOptions: {
        module: 'commonjs', moduleResolution: 'node10', ignoreDeprecations: '6.0', target: 'es2022', strict: true,
        experimentalDecorators: true, types: [], skipLibCheck: true, noEmit: true,
      },
      files: ['src/main.ts'],
    }));
    await ok(process.execPath, [join(cjs(), 'node_modules', 'typescript6', 'bin', 'tsc'), '-p', 'tsconfig.node10.json'], cjs());
  }, 60_000);

  test('esm project: an esbuild ESM bundle of the program runs (no "Dynamic require of node:crypto")', async () => {
    await ok(bin(esm(), 'esbuild'), ['src/main.ts', '--bundle', '--platform=node', '--format=esm',
      '--outfile=bundle.mjs', '--log-level=warning'], esm());
    expect(lines(await ok(process.execPath, ['bundle.mjs'], esm()))).toEqual(EXPECTED);
  }, 60_000);

  test('ESM and CommonJS importers get one copy of the runtime each; a process that loads both is warned', async () => {
    const script = [
      `import * as esm from 'casty';`,
      `import { createRequire } from 'node:module';`,
      `const cjs = createRequire(import.meta.url)('casty');`,
      `console.log(Object.keys(esm).length === Object.keys(cjs).length, esm.Actor === cjs.Actor);`,
    ].join('\n');
    const result = await run(process.execPath, ['--input-type=module', '-e', script], esm());
    expect(result.stdout.trim()).toBe('true false');
    expect(result.stderr).toContain('[CASTY_DUAL_PACKAGE]');
  }, 60_000);

  test('each tarball ships LICENSE, README.md, and the sources its source maps point at', async () => {
    const listed = await ok('tar', ['-tzf', join(dir, 'tarballs', 'casty-core-0.1.0.tgz')], dir);
    const files = new Set(lines(listed).map((file) => file.replace(/^package\//, '')));
    for (const name of ['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/esm/index.mjs', 'dist/index.d.mts']) {
      expect(files).toContain(name);
    }
    const installed = join(esm(), 'node_modules', '@casty', 'core');
    const maps = [...files].filter((file) => file.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(10);
    const missing = [];
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(installed, map), 'utf8')) as { sources: string[] };
      for (const source of sources) {
        const shipped = join(map, '..', source).replace(/\\/g, '/');
        if (!files.has(shipped)) missing.push(`${map} -> ${shipped}`);
      }
    }
    expect(missing).toEqual([]);
  }, 60_000);
});
