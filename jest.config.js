/** Tests sit beside the code; the suffix says their reach (unit, int, e2e), and the reach picks the project. */
const shared = {
  testEnvironment: 'node',
  rootDir: __dirname,
  roots: ['<rootDir>/src', '<rootDir>/write-model', '<rootDir>/read-model', '<rootDir>/test', '<rootDir>/packages'],
  // ts-jest compiles each file alone (tsconfig's isolatedModules): type-checking here doubled run times,
  // so `npm run typecheck` (run by CI) checks the specs' types and ts-jest reports what a lone file shows.
  transform: { '^.+\\.ts$': 'ts-jest' },
  setupFiles: ['reflect-metadata'],
};

module.exports = {
  testTimeout: 60000,
  projects: [
    // Pure, no services, milliseconds each: `npm run test:unit`.
    { ...shared, displayName: 'unit', testMatch: ['**/*.unit.spec.ts'] },
    // Real PostgreSQL / NATS / read store, and the running system over HTTP.
    { ...shared, displayName: 'integration', testMatch: ['**/*.int.spec.ts', '**/*.e2e.spec.ts'] },
  ],
};
