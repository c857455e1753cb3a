/**
 * The Cache Forge conformance kit: mocha suites that every storage, metadata and hot cache
 * implementation and every format plugin runs, the built-in ones and third parties' alike. A
 * backend's test file calls a suite with a factory; a plugin's, the plugin suite and the fault
 * matrix (helpers to write its own tests are in `@cacheforge/core/testing`):
 *
 *     import { storageSuite, pluginSuite } from '@cacheforge/conformance';
 *     storageSuite('MyStorage', { create: async () => new MyStorage(...), destroy: ... });
 *     pluginSuite('./src/index.ts', { cwd: process.cwd(), samples: ['some/real/path.tgz'] });
 */
export { storageSuite, type StorageSuiteOptions } from './storage-suite.js';
export { metadataSuite, type MetadataSuiteOptions } from './metadata-suite.js';
export { cacheSuite, type CacheSuiteOptions } from './cache-suite.js';
export { pluginSuite, type VerifyOptions } from './plugin-suite.js';
export {
  describeFaultMatrix, faultCases, FAULT_STATUSES, FAULT_SIZES,
  type FaultFormat, type FaultTarget, type FaultCase, type MatrixOptions,
} from './fault-matrix.js';
export { GeneratedBytes } from './generated-bytes.js';
