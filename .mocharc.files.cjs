// Same as .mocharc.cjs without the default spec: `npx mocha --config ../../.mocharc.files.cjs FILE...`
// runs only the files named.
const base = require('./.mocharc.cjs');
const { spec: _spec, ...rest } = base;
module.exports = rest;
