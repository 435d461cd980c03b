/** @jest-config-loader esbuild-register */
import type { Config } from 'jest';

// Tests run against the packages' sources (mapped below) so a change needs no rebuild;
// examples and multi-process tests run the built packages, as a user would.
const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages'],
  testMatch: ['**/test/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', diagnostics: false }],
  },
  moduleNameMapper: {
    '^@casty/core$': '<rootDir>/packages/core/src/index.ts',
    '^@casty/core/testing$': '<rootDir>/packages/core/src/testing/index.ts',
    '^@casty/core/internal$': '<rootDir>/packages/core/src/internal/index.ts',
    '^@casty/cluster$': '<rootDir>/packages/cluster/src/index.ts',
    '^@casty/cluster/testing$': '<rootDir>/packages/cluster/src/testing/index.ts',
    '^@casty/cluster/internal$': '<rootDir>/packages/cluster/src/internal/index.ts',
    '^@casty/sharding$': '<rootDir>/packages/sharding/src/index.ts',
    '^@casty/replication$': '<rootDir>/packages/replication/src/index.ts',
    '^casty$': '<rootDir>/packages/casty/src/index.ts',
  },
  testTimeout: 30_000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/scripts/jest-summary-reporter.cjs'],
};

export default config;
