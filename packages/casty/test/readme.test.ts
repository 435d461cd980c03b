// Every command the README shows must work as written, from where it says: this test takes the shell
// commands out of README.md (lines of ```bash blocks, and `npm|npx|node|cd|bash|pnpm ...` spans in its
// prose) and runs each one from the repository root, as a user who has done the set-up would. It needs the
// packages built (as the examples test does). A command is skipped only by a rule below that says why, and
// every rule must still match something in the README.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The shell commands README.md shows: lines of shell code blocks (comments cut), and commands in prose. */
function readmeCommands(text: string): string[] {
  const commands: string[] = [];
  const prose: string[] = [];
  let fence: string | undefined;
  for (const line of text.split('\n')) {
    const opening = /^```(\w*)/.exec(line);
    if (opening !== null) {
      fence = fence === undefined ? opening[1] ?? '' : undefined;
      continue;
    }
    if (fence === undefined) prose.push(line);
    else if (['bash', 'sh', 'shell'].includes(fence)) {
      const command = line.replace(/(^|\s)#.*$/, '').trim();
      if (command !== '') commands.push(command);
    }
  }
  for (const span of prose.join('\n').matchAll(/`([^`\n]+)`/g)) {
    const code = (span[1] ?? '').trim();
    if (/^(npm|npx|node|cd|bash|pnpm|tsx) /.test(code)) commands.push(code);
  }
  return [...new Set(commands)];
}

const benchScripts = Object.keys((JSON.parse(readFileSync(join(root, 'bench', 'package.json'), 'utf8')) as
  { scripts: Record<string, string> }).scripts);

/** Commands not run here, and why. */
const skipped: Array<{ pattern: RegExp; why: string }> = [
  { pattern: /^npm run demo$/, why: 'the set-up itself: installs and builds (done before this test can run), then runs every example (examples.test.ts)' },
  { pattern: /^npm test$/, why: 'the set-up itself: installs, builds, type-checks and runs the whole suite, this test included' },
  { pattern: /^bash \.ci\/run$/, why: 'runs npm test (above)' },
  { pattern: /^npm run jest$/, why: 'the test suite itself, as npm test runs it: this test included' },
  { pattern: /^npm run trials:replication$/, why: 'the 20 SIGKILL trials take over a minute; the suite runs the same test with 2 trials (Replication.multiprocess.test.ts)' },
  { pattern: /^npm install (-D )?[\w@/ -]+$/, why: 'installs into a project of your own; packedInstall.multiprocess.test.ts installs the packed packages into fresh projects' },
  { pattern: /^npm run lint$/, why: 'npm test runs it, before jest; it takes 10 to 15 s, too close to the 20 s a command has here while other suites run' },
  { pattern: /^npx --yes pnpm@[\d.]+ --filter @casty\/bench run [\w:]+( -- .*)?$/,
    why: 'benchmarks and the 1,000-node simulation take minutes and build other commits; their scripts must exist (checked below)' },
];

function run(command: string): Promise<{ code: number | null; signal: string | null; output: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.TSX_TSCONFIG_PATH;
    const child = spawn('bash', ['-c', command], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.on('close', (code, signal) => resolve({ code, signal, output }));
  });
}

const commands = readmeCommands(readme);
const toRun = commands.filter((c) => !skipped.some((s) => s.pattern.test(c)));

describe('README commands', () => {
  test('the commands are found, and every skip rule matches a command the README shows', () => {
    expect(toRun).toEqual(expect.arrayContaining([
      expect.stringMatching(/quickstart\.ts$/),
      expect.stringMatching(/two-nodes\.ts$/),
    ]));
    for (const rule of skipped) expect(commands.filter((c) => rule.pattern.test(c))).not.toEqual([]);
  });

  test('the benchmark commands name scripts that exist in bench/package.json', () => {
    const named = commands.map((c) => /--filter @casty\/bench run ([\w:]+)/.exec(c)?.[1]).filter((s) => s !== undefined);
    expect(named.length).toBeGreaterThan(0);
    for (const script of named) expect(benchScripts).toContain(script);
  });

  test.each(toRun)('`%s` works from the repository root', async (command) => {
    const result = await run(command);
    if (result.code !== 0) throw new Error(`exited with ${result.code ?? result.signal}:\n${result.output}`);
  }, 30_000);
});
