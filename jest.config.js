/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // test/fixtures holds test files that other tests run in a jest of their own (they fail on purpose).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/fixtures/'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  globalSetup: '<rootDir>/test/support/globalSetup.ts',
  globalTeardown: '<rootDir>/test/support/globalTeardown.ts',
  setupFilesAfterEnv: ['<rootDir>/test/support/afterEachFile.ts'],
  // Generous: the suite must pass on a machine whose cores are busy with other work. Tests that wait for
  // something poll for it; none measures how long it took.
  testTimeout: 60000,
};
