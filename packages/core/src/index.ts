/**
 * @cacheforge/core: what plugins and embedders use. A plugin needs only the contract types and
 * `definePlugin`; an embedder can load a config and run a server in-process.
 */
export * from './contract/index.js';
export { memoryEntity, RewrittenDocuments, type MemoryDocumentMeta } from './plugin/rewritten-documents.js';
export { CacheForgeError, cfError, isCacheForgeError, hasCode } from './errors/errors.js';
export { ERROR_CODES, type ErrorCode } from './errors/codes.js';
export { CORE_VERSION } from './version.js';
export { GrantSigner, GRANT_PREFIX, GRANT_TTL_S, type Grant } from './auth/bearer-grant.js';
export type { Logger } from './util/logger.js';
export { createLogger } from './util/logger.js';
export { redact, redactText } from './util/redact.js';
export { EMBEDDED_DEFAULTS, type LoadOptions, type LoadedConfig } from './config/load.js';
export { loadConfig } from './plugin/load-config.js';
export type { CacheForgeConfig, RemoteConfig } from './config/config.js';
export { parseDuration, parseSize } from './util/units.js';
export { createContainer, TOKENS } from './container.js';
export { CacheForgeServer } from './server/server.js';
export type { Storage, BlobWriter, BlobInfo, ByteRange, PartialReader, StorageCapabilities } from './storage/storage.js';
export type { MetadataStore, ArtifactRecord, ArtifactId, NewArtifactRecord, AccessCount } from './metadata/metadata.js';
export type { HotCache } from './cache/cache.js';
export { FilesystemStorage, type FilesystemStorageOptions } from './storage/filesystem/filesystem-storage.js';
export { S3Storage, type S3StorageOptions } from './storage/s3/s3-storage.js';
export { KnexMetadataStore, type KnexMetadataOptions } from './metadata/knex/knex-metadata-store.js';
export { KeyvCache } from './cache/keyv/keyv-cache.js';
export { RedisCache, type RedisCacheOptions } from './cache/redis/redis-cache.js';
export { verifyPlugin, PLUGIN_CHECKS, type PluginVerification, type PluginCheck, type VerifyOptions } from './plugin/verify.js';
