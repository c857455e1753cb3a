// One mocha config for every package: mocha walks up from each package directory to find it.
// NOTE: tsx applies a tsconfig only to files its `include` matches; pointing it at the root base
// config (which has no `include`) makes decorators work in tests and in sibling packages' sources.
process.env.TSX_TSCONFIG_PATH ??= require('node:path').join(__dirname, 'tsconfig.base.json');
module.exports = {
  spec: ['test/**/*.test.ts'],
  extension: ['ts'],
  'node-option': ['import=tsx', 'conditions=source'],
  timeout: 20000,
  // A leaked handle must fail loudly in a test, never hang CI: mocha exits when the run ends.
  exit: true,
};
