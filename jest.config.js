/** Jest runs the TypeScript sources through SWC (no TypeScript compiler API needed). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  // The production build (npm run build) is never a test or a module to map.
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  setupFiles: ['<rootDir>/test/support/setup-env.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60000,
  // The run always ends: something left open after the last test file is named, then the process exits with failure.
  reporters: ['default', '<rootDir>/test/support/exit-reporter.js'],
  // Time-skipping Temporal environments are global to a process: one suite at a time.
  maxWorkers: 1,
};
