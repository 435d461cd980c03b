// The README's `a.or(b)` example shows what `or` needs (each actor declares the classes it handles: `static
// handles` for a receive-style actor, or @handle methods), and it is examples/combining-refs.ts verbatim, which
// `npm run typecheck` compiles and examples.test.ts runs: the snippet compiles and does what it says.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const example = readFileSync(join(root, 'examples', 'combining-refs.ts'), 'utf8');

const tsBlocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '');

test('the README shows a.or(b) with the handles declaration it needs, as examples/combining-refs.ts has it', () => {
  const withOr = tsBlocks.filter((block) => /\.or\(/.test(block));
  expect(withOr).toHaveLength(1);
  const block = withOr[0] ?? '';
  expect(block).toMatch(/static readonly handles = \[LogMessage\]/);
  expect(block).toMatch(/static readonly handles = \[MetricEvent\]/);
  expect(example).toContain(block.trim());
  expect(readme).toMatch(/CombinedRefError/);
});
