import http from 'node:http';
import https from 'node:https';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';

/** The agents one remote's requests go through: keep-alive, and the environment's proxy if any. */
export interface Agents { readonly http: http.Agent; readonly https: https.Agent }

/**
 * Makes keep-alive agents for `target`, routed through `HTTPS_PROXY`/`HTTP_PROXY` (lowercase names
 * too) unless `NO_PROXY` covers the host, as curl and npm do.
 */
export function createAgents(target: URL, maxSockets: number, env: NodeJS.ProcessEnv = process.env): Agents {
  const base = { keepAlive: true, keepAliveMsecs: 1000, maxSockets, maxFreeSockets: Math.min(maxSockets, 16), scheduling: 'lifo' as const };
  const proxy = proxyFor(target, env);
  if (!proxy) return { http: new http.Agent(base), https: new https.Agent(base) };
  return { http: new HttpProxyAgent({ ...base, proxy }), https: new HttpsProxyAgent({ ...base, proxy }) };
}

/** The proxy URL to use for `target`, or undefined for a direct connection. */
export function proxyFor(target: URL, env: NodeJS.ProcessEnv): string | undefined {
  const pick = (...names: string[]) => names.map((n) => env[n]).find((v) => v && v.trim() !== '');
  const proxy = target.protocol === 'https:' ? pick('HTTPS_PROXY', 'https_proxy') : pick('HTTP_PROXY', 'http_proxy');
  if (!proxy) return undefined;
  const noProxy = pick('NO_PROXY', 'no_proxy');
  if (noProxy) {
    const host = target.hostname.toLowerCase();
    for (const raw of noProxy.split(',')) {
      const entry = raw.trim().toLowerCase().replace(/:\d+$/, '');
      if (!entry) continue;
      if (entry === '*') return undefined;
      const suffix = entry.startsWith('*.') ? entry.slice(1) : entry.startsWith('.') ? entry : `.${entry}`;
      if (host === entry.replace(/^\*?\./, '') || host.endsWith(suffix)) return undefined;
    }
  }
  return proxy;
}
