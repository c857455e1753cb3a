import http from 'node:http';
import crypto from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Daemon, freePort, run, until } from '@cacheforge/core/testing';

/** A running `docker-registry` (CNCF distribution) on 127.0.0.1. */
export interface Registry {
  readonly url: string;
  readonly host: string;
  readonly daemon: Daemon;
  stop(): Promise<void>;
}

/** Token auth for a registry: the token service's realm and the certificate its tokens are signed with. */
export interface TokenAuthConfig {
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  readonly certFile: string;
}

/**
 * Starts Debian's `docker-registry` with its storage in `dir`, plain or with `auth: token`,
 * optionally redirecting blob reads to `redirectBase` (a "CDN" serving the storage folder), or
 * as a pull-through proxy of `proxyOf`.
 */
export async function startRegistry(dir: string, options: { auth?: TokenAuthConfig; redirectBase?: string; proxyOf?: string } = {}): Promise<Registry> {
  const port = await freePort();
  await mkdir(path.join(dir, 'data'), { recursive: true });
  const lines = [
    'version: 0.1',
    'log: {level: warn, accesslog: {disabled: true}}',
    `storage: {filesystem: {rootdirectory: ${JSON.stringify(path.join(dir, 'data'))}}, delete: {enabled: true}}`,
    `http: {addr: "127.0.0.1:${port}"}`,
  ];
  if (options.auth) {
    const a = options.auth;
    lines.push(`auth: {token: {realm: ${JSON.stringify(a.realm)}, service: ${a.service}, issuer: ${a.issuer}, rootcertbundle: ${JSON.stringify(a.certFile)}}}`);
  }
  if (options.redirectBase) lines.push(`middleware: {storage: [{name: redirect, options: {baseurl: ${JSON.stringify(options.redirectBase)}}}]}`);
  if (options.proxyOf) lines.push(`proxy: {remoteurl: ${JSON.stringify(options.proxyOf)}}`);
  const config = path.join(dir, 'config.yml');
  await writeFile(config, lines.join('\n') + '\n');
  const daemon = new Daemon('docker-registry', ['serve', config]);
  const url = `http://127.0.0.1:${port}`;
  await until('docker-registry', async () => {
    const status = await new Promise<number>((resolve, reject) => http.get(`${url}/v2/`, (res) => { res.resume(); resolve(res.statusCode!); }).on('error', reject));
    return status === 200 || status === 401;
  }, 20_000, daemon);
  return { url, host: `127.0.0.1:${port}`, daemon, stop: () => daemon.stop() };
}

/** A self-signed certificate and key for the token service (openssl). */
export async function makeTokenCert(dir: string): Promise<{ keyFile: string; certFile: string }> {
  const keyFile = path.join(dir, 'token.key');
  const certFile = path.join(dir, 'token.crt');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '30', '-subj', '/CN=fixture-issuer']);
  return { keyFile, certFile };
}

/** A running token service, with the log of what it was asked. */
export interface TokenServer {
  readonly realm: string;
  readonly requests: { scope: string[]; basic: boolean }[];
  close(): Promise<void>;
}

/**
 * A registry token service (the Docker registry v2 token spec): issues RS256 JWTs carrying the
 * certificate in `x5c`, granting every requested scope; with `user`/`password`, only to Basic auth
 * that matches.
 */
export async function startTokenServer(options: { keyFile: string; certFile: string; issuer: string; service: string; user?: string; password?: string }): Promise<TokenServer> {
  const key = crypto.createPrivateKey(await readFile(options.keyFile));
  const certDer = new crypto.X509Certificate(await readFile(options.certFile)).raw;
  const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');
  const requests: TokenServer['requests'] = [];
  const server = http.createServer((req, res) => {
    const u = new URL(req.url!, 'http://x');
    const scopes = u.searchParams.getAll('scope');
    requests.push({ scope: scopes, basic: (req.headers.authorization ?? '').startsWith('Basic ') });
    if (options.user) {
      const want = `Basic ${Buffer.from(`${options.user}:${options.password}`).toString('base64')}`;
      if (req.headers.authorization !== want) { res.writeHead(401, { 'content-type': 'application/json' }); res.end('{"details":"bad credentials"}'); return; }
    }
    const access = scopes.map((s) => {
      const parts = s.split(':');
      const actions = parts.pop()!.split(',');
      return { type: parts[0], name: parts.slice(1).join(':'), actions };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] };
    const claims = { iss: options.issuer, sub: options.user ?? 'anonymous', aud: u.searchParams.get('service') ?? options.service, exp: now + 300, nbf: now - 10, iat: now, jti: crypto.randomUUID(), access };
    const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}`;
    const token = `${input}.${b64u(crypto.sign('sha256', Buffer.from(input), key))}`;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`, requests,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** A static file server over a folder (the "CDN" a registry redirects blob reads to). */
export async function startStatic(root: string): Promise<{ url: string; gets: string[]; authorized: number; close(): Promise<void> }> {
  const gets: string[] = [];
  let authorized = 0;
  const server = http.createServer(async (req, res) => {
    const file = path.join(root, decodeURIComponent(new URL(req.url!, 'http://x').pathname));
    if (!file.startsWith(root + path.sep)) { res.writeHead(400); res.end(); return; }
    try {
      const body = await readFile(file);
      if (req.method === 'GET') gets.push(req.url!);
      if (req.headers.authorization) authorized++;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      res.writeHead(404); res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, gets, get authorized() { return authorized; }, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}
