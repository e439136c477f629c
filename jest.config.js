// Test tiers by suffix (as in Emmett): *.unit.spec.ts, *.contract.spec.ts and *.e2e.spec.ts need
// nothing but Node (`npm test`); *.int.spec.ts need real servers (`npm run test:integration`).
const swc = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];
// NestJS 12 and cookie (under light-my-request) ship as ES modules only. Node loads them with
// require() (require(esm), Node >= 20.19), but Jest's module sandbox does not on every supported
// Node version: this transform compiles them to CommonJS for the tests on Node 20, 22 and 24 alike.
const esmOnly = ['@nestjs', 'cookie'];
const swcEsm = ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }];
const moduleNameMapper = {
  '^@chronicle/domain$': '<rootDir>/libs/domain/src',
  '^@chronicle/event-store$': '<rootDir>/libs/event-store/src',
  '^@chronicle/read-store$': '<rootDir>/libs/read-store/src',
  '^@chronicle/messaging$': '<rootDir>/libs/messaging/src',
  '^@chronicle/infrastructure$': '<rootDir>/libs/infrastructure/src',
  '^@chronicle/commands$': '<rootDir>/libs/commands/src',
  '^@chronicle/projector$': '<rootDir>/libs/projector/src',
  '^@chronicle/personal-data$': '<rootDir>/libs/personal-data/src',
  '^@chronicle/cluster$': '<rootDir>/libs/cluster/src',
  '^@chronicle/sqlite$': '<rootDir>/libs/sqlite/src',
  '^@chronicle/webhooks$': '<rootDir>/libs/webhooks/src',
  '^@chronicle/projections$': '<rootDir>/projections',
};
const base = {
  rootDir: __dirname,
  transform: { '^.+\\.ts$': swc, [`/node_modules/(${esmOnly.join('|')})/.+\\.js$`]: swcEsm },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  moduleNameMapper,
  testEnvironment: 'node',
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};
module.exports = {
  // Jest's default is one worker fewer than the cores: one on a 2-core machine, where most suites
  // wait on child processes, sockets and timers. Two there took `npm test` from 15 to 8 minutes.
  maxWorkers: Math.max(2, require('node:os').availableParallelism() - 1),
  // Jest reads testTimeout from the global configuration only: set inside a project it is silently
  // ignored (which left the property tests on the 5 s default). The property tests run the real
  // projector over 20–25 random histories: about a second each alone, several on a loaded 2-core
  // machine (CI builds Node 22/24 addons beside `npm test`).
  testTimeout: 20_000,
  projects: [
    {
      ...base,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/{apps,libs,projections,examples}/**/*.{unit,contract}.spec.ts',
        '<rootDir>/projections/**/*.spec.ts',
        '<rootDir>/test/support/**/*.unit.spec.ts',
      ],
      testPathIgnorePatterns: [...base.testPathIgnorePatterns, '\\.int\\.spec\\.ts$', '\\.e2e\\.spec\\.ts$'],
    },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e.spec.ts'] },
    {
      ...base,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.int.spec.ts', '<rootDir>/{apps,libs,projections}/**/*.int.spec.ts'],
    },
    { ...base, displayName: 'cluster', testMatch: ['<rootDir>/test/cluster/**/*.cluster.spec.ts'] },
    // The dashboard in a real Chromium (npm run test:browser; not part of npm test).
    {
      ...base,
      displayName: 'browser',
      testMatch: ['<rootDir>/test/browser/**/*.browser.spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/browser/timeout.ts'],
    },
  ],
};
