// Lint: typed (each file is checked with the tsconfig.json nearest to it: the root one for
// packages/*/src and packages/*/test, examples/tsconfig.json, bench/tsconfig.json), and only
// the two rules below; no recommended sets.
//
// consistent-type-imports and decorators: the rule only holds back (leaves value imports
// alone) in a file with decorators when both experimentalDecorators and emitDecoratorMetadata
// are on, since the emitted metadata then refers to imported types at run time. We use
// experimentalDecorators (@message) but not emitDecoratorMetadata (tsconfig.base.json), so
// decorators never keep a type at run time and the rule applies everywhere as written.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['**/dist/**', '**/node_modules/**'] },
  {
    files: [
      'packages/*/src/**/*.ts',
      'packages/*/test/**/*.ts',
      'examples/**/*.ts',
      'bench/**/*.ts',
    ],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: {
        projectService: true,
        tsconfigRootDir: dirname(fileURLToPath(import.meta.url)),
      },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'off' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'separate-type-imports' },
      ],
    },
  },
);
