// The ESM half of a package's build, run after tsc has written the CommonJS build and the .d.ts files to dist/.
// For every entry of package.json's "exports" it bundles src/<entry>.ts into dist/esm/<entry>.mjs (entries of
// one package share chunks, so a package's module state, such as the @message registry, exists once per
// format) and writes dist/<entry>.d.mts, the import condition's types, re-exporting the .d.ts. Every entry's
// types reference Node's (@types/node, a peer dependency): TypeScript 6+ no longer loads @types by default.
// It also copies the repository's LICENSE into the package, which ships it.
// Run from the package's directory: node ../../scripts/build-esm.mjs
import { build } from 'esbuild';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const NODE_TYPES = '/// <reference types="node" />\n';
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const entries = {};
for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (subpath === './package.json') continue;
  const cjs = target.require?.default;
  const esm = target.import?.default;
  const match = /^\.\/dist\/(.+)\.js$/.exec(cjs ?? '');
  if (!match || esm !== `./dist/esm/${match[1]}.mjs`) {
    throw new Error(`${pkg.name} exports['${subpath}'] must be { import: { types: './dist/X.d.mts', default: ` +
      `'./dist/esm/X.mjs' }, require: { types: './dist/X.d.ts', default: './dist/X.js' } }`);
  }
  const entry = match[1];
  entries[entry] = `src/${entry}.ts`;
  const dts = `dist/${entry}.d.ts`;
  const types = readFileSync(dts, 'utf8');
  if (!types.startsWith(NODE_TYPES)) writeFileSync(dts, NODE_TYPES + types);
  const base = entry.split('/').pop();
  writeFileSync(`dist/${entry}.d.mts`, `${NODE_TYPES}export * from './${base}.js';\n`);
}

// the package ships the repository's license
copyFileSync('../../LICENSE', 'LICENSE');

// chunk names carry a hash: start empty so the package never ships last build's chunks
rmSync('dist/esm', { recursive: true, force: true });

await build({
  entryPoints: entries,
  outdir: 'dist/esm',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  // class names are part of the API: @message's default wire name, error names, log lines
  keepNames: true,
  define: { __CASTY_MODULE_FORMAT__: '"ESM"' },
  sourcemap: true,
  tsconfigRaw: { compilerOptions: { experimentalDecorators: true, useDefineForClassFields: true } },
  logLevel: 'warning',
});
