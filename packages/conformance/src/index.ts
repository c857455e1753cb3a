/**
 * The Cache Forge conformance kit: mocha suites that every storage, metadata and hot cache
 * implementation runs, the built-in ones and third parties' alike. A backend's test file calls a
 * suite with a factory:
 *
 *     import { storageSuite } from '@cacheforge/conformance';
 *     storageSuite('MyStorage', { create: async () => new MyStorage(...), destroy: ... });
 */
export { storageSuite, type StorageSuiteOptions } from './storage-suite.js';
export { metadataSuite, type MetadataSuiteOptions } from './metadata-suite.js';
export { cacheSuite, type CacheSuiteOptions } from './cache-suite.js';
export { pluginSuite } from './plugin-suite.js';
export { GeneratedBytes } from './generated-bytes.js';
