/** One jest config for unit (next to the code) and end-to-end (test/) suites. */
const moduleNameMapper = {
  '^@tagserve/(config|model|dvc-store|queue)(|/.*)$': '<rootDir>/libs/$1/src$2',
};
const common = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  testEnvironment: 'node',
  setupFiles: ['<rootDir>/test/support/node-realm-typed-arrays.ts'],
  moduleNameMapper,
};
module.exports = {
  // Real processes and the real model: generous per-test time.
  testTimeout: 120000,
  projects: [
    { ...common, displayName: 'unit', rootDir: __dirname, roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/scripts'], testRegex: '\\.spec\\.ts$' },
    { ...common, displayName: 'e2e', rootDir: __dirname, roots: ['<rootDir>/test'], testRegex: '\\.e2e-spec\\.ts$' },
  ],
};
