/** Tests sit beside the code; the suffix says their reach (unit, int, e2e). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/write-model', '<rootDir>/read-model', '<rootDir>/test', '<rootDir>/packages'],
  testMatch: ['**/*.spec.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testTimeout: 60000,
  setupFiles: ['reflect-metadata'],
};
