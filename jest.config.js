/**
 * Two projects, one `npm test`:
 * - unit (`*.unit.test.ts`): pure code, the memory store, CDK assertions on configuration; no
 *   server is started, so `npm run test:unit` answers in seconds while working;
 * - integration (every other `*.test.ts`): DynamoDB Local, fauxqs and the vendor simulator,
 *   started once by the global setup (`npm run test:integration`).
 * A new test file is an integration test unless its name says `.unit.`.
 * @type {import('jest').Config}
 */
const transform = {
  '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }],
};

module.exports = {
  testTimeout: 60_000,
  maxWorkers: 2,
  // The coverage gate (`npm run test:unit` measures it): the SDK's pure core (every file of
  // lambda/sluice/core/), the vendor circuit's state machine and the worker's decision tree are
  // exercised by the unit tests alone.
  collectCoverageFrom: ['lambda/sluice/core/*.ts', 'lambda/circuit/state.ts', 'lambda/worker/decision.ts'],
  coverageReporters: ['text-summary'],
  coverageThreshold: { global: { statements: 95, branches: 88, functions: 90, lines: 95 } },
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.unit.test.ts'],
      transform,
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['\\.unit\\.test\\.ts$'],
      transform,
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
    },
  ],
};
