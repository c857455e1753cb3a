import type { RemoteDefinition, SetupSnippet, SetupTarget } from '@cacheforge/core';
import { SUM_GOLANG_ORG_KEY } from './note.js';
import type { GoOptions } from './options.js';

/** What go is told about the checksum database: nothing when it is sum.golang.org through this proxy, else why. */
function sumdbLines(options: GoOptions): string[] {
  if (!options.sumdb) return ['# this remote proxies no checksum database: go asks sum.golang.org itself (GOSUMDB left at its default)'];
  const key = options.sumdbKey ?? SUM_GOLANG_ORG_KEY;
  // go asks the proxy for sumdb/<name>/supported first, and reaches the database through it when answered 200.
  if (key === SUM_GOLANG_ORG_KEY) return ['# GOSUMDB left at its default: go reaches sum.golang.org through this proxy (sumdb/sum.golang.org/)'];
  return [`export GOSUMDB='${key}'    # reached through this proxy (sumdb/${key.split('+')[0]}/)`];
}

/**
 * `GOPROXY` (and `GOSUMDB` / `GONOSUMDB` where the remote's options call for them) as shell
 * lines, and, when reads need a token, the `~/.netrc` line go sends it from: Basic, any user
 * name, the token as password. go sends credentials over https only (a plain-http GOPROXY gets
 * none, and credentials in the URL are refused there), so a token needs Cache Forge behind TLS.
 */
export function goClientSetup(remote: RemoteDefinition<GoOptions>, target: SetupTarget): SetupSnippet[] {
  const proxy = target.base.href.replace(/\/$/, '');
  const patterns = remote.options.noSumCheck ?? [];
  const env = [
    `export GOPROXY=${proxy}`,
    ...sumdbLines(remote.options),
    // Modules the remote stores unchecked have no public record either: go must not look them up.
    ...(patterns.length > 0 ? [`export GONOSUMDB='${patterns.join(',')}'`] : []),
    ...(target.token && target.base.protocol === 'http:' ? ['# reads need a token, which go sends over https only: serve Cache Forge behind TLS (server.publicUrl https://...)'] : []),
  ];
  const snippets: SetupSnippet[] = [{ client: 'go', text: `${env.join('\n')}\n` }];
  if (target.token) {
    snippets.push({
      client: 'go (the token; NETRC=<file> to keep it elsewhere)', file: '~/.netrc',
      text: `machine ${target.base.hostname} login any password ${target.token}\n`,
    });
  }
  return snippets;
}
