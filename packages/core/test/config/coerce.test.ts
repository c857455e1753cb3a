import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { loadConfig } from '../../src/plugin/load-config.js';
import { coerceBySchema } from '../../src/config/coerce.js';
import { coreSchema } from '../../src/config/schema.js';

describe('config: environment strings converted by the type the schema expects at their key', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(path.join(tmpdir(), 'cf-coerce-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  const load = async (config: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => {
    const file = path.join(dir, `c-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(file, JSON.stringify({ plugins: ['@cacheforge/plugin-generic'], ...config }));
    return (await loadConfig({ configPath: file, env })).config;
  };

  it('reads ${VAR:-8123} as a number for a numeric key and ${VAR:-true} as a boolean for a boolean key', async () => {
    const config = await load({ server: { port: '${CF_T_PORT:-8123}', trustProxy: '${CF_T_TRUST:-true}', host: '${CF_T_HOST:-127.0.0.1}' }, remotes: {} });
    expect(config.server.port).to.equal(8123);
    expect(config.server.trustProxy).to.equal(true);
    expect(config.server.host).to.equal('127.0.0.1');
    const set = await load({ server: { port: '${CF_T_PORT:-8123}', trustProxy: '${CF_T_TRUST:-true}' }, remotes: {} }, { CF_T_PORT: '9001', CF_T_TRUST: 'false' });
    expect(set.server.port).to.equal(9001);
    expect(set.server.trustProxy).to.equal(false);
  });

  it('keeps a string of digits a string where the key takes a string (a password, a header, an S3 secret)', async () => {
    const env = { CF_T_PW: '123456', CF_T_KEY: '0042', CF_T_SECRET: '99999999' };
    const config = await load({
      storage: { s3: { endPoint: 'minio.lan', bucket: 'blobs', accessKey: '${CF_T_KEY}', secretKey: '${CF_T_SECRET}' } },
      remotes: { files: { type: 'generic', upstream: 'http://127.0.0.1:9/', headers: { 'x-api-key': '${CF_T_PW}' } } },
    }, env);
    expect(config.storage.s3?.accessKey).to.equal('0042');
    expect(config.storage.s3?.secretKey).to.equal('99999999');
    expect(config.remotes.files!.headers).to.deep.equal({ 'x-api-key': '123456' });
  });

  it('converts CACHEFORGE_* variables by schema type too: digits stay a string for a string key', async () => {
    const config = await load({ storage: { s3: { endPoint: 'minio.lan', bucket: 'blobs', accessKey: 'a', secretKey: 'b' } }, remotes: {} }, {
      CACHEFORGE_STORAGE_S3_SECRET_KEY: '12345678', CACHEFORGE_STORAGE_S3_ACCESS_KEY: '007', CACHEFORGE_STORAGE_S3_PORT: '9000',
      CACHEFORGE_STORAGE_S3_USE_SSL: 'false', CACHEFORGE_SERVER_HOST: '10',
    });
    expect(config.storage.s3).to.include({ secretKey: '12345678', accessKey: '007', port: 9000, useSSL: false });
    expect(config.server.host).to.equal('10');
  });

  it('follows the schema through defaults, unions, records and pipes', () => {
    const schema = z.strictObject({
      a: z.number().default(1), b: z.union([z.string(), z.number()]), c: z.record(z.string(), z.boolean()),
      d: z.strictObject({ e: z.number().int().optional() }).default({}), f: z.enum(['x', 'y']),
    });
    expect(coerceBySchema('5', schema, ['a'])).to.equal(5);
    expect(coerceBySchema('5', schema, ['b'])).to.equal('5');
    expect(coerceBySchema('true', schema, ['c', 'any'])).to.equal(true);
    expect(coerceBySchema('7', schema, ['d', 'e'])).to.equal(7);
    expect(coerceBySchema('5', schema, ['f'])).to.equal('5');
    expect(coerceBySchema('abc', schema, ['a'])).to.equal('abc'); // left for the schema to report
    expect(coerceBySchema('5', schema, ['nope'])).to.equal('5');
    // Durations and sizes take strings: `30` stays `30` and the schema reads it as seconds.
    expect(coerceBySchema('30', coreSchema, ['upstream', 'idleTimeout'])).to.equal('30');
  });
});
