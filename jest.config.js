/**
 * Two projects, one `npm test`:
 * - unit (`*.unit.test.ts`): pure code, the memory stores and queues, CDK assertions on
 *   configuration; no server is started by the setup (the worker's unit tests start the vendor
 *   simulator on loopback inside the test), so `npm run test:unit` answers in a minute or two;
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
  // lambda/sluice/core/), the vendor circuit's state machine and the worker's pipeline (every file
  // of lambda/worker/ that is logic or runs on ports) are exercised by the unit tests alone. The
  // worker's AWS adapters (its SDK clients, the SQS queues, the wiring) are the integration tests'.
  collectCoverageFrom: [
    'lambda/sluice/core/**/*.ts',
    'lambda/circuit/state.ts',
    'lambda/worker/**/*.ts',
    '!lambda/worker/adapters/aws-clients.ts',
    '!lambda/worker/adapters/queues.ts',
    '!lambda/worker/wire.ts',
  ],
  coverageReporters: ['text-summary'],
  // The worker's pipeline has its own floor, a little under what its unit tests reach (statements
  // 94 %, branches 86.6 %, functions 92 %, lines 96 %); the SDK's core and the circuit's state
  // machine keep theirs (a path's files count only toward its own threshold, not the global one).
  // The margin is for the pool's records, whose order on loopback I/O may take another branch.
  coverageThreshold: {
    global: { statements: 95, branches: 88, functions: 90, lines: 95 },
    './lambda/worker/': { statements: 93, branches: 85, functions: 91, lines: 95 },
  },
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
