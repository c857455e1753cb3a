/**
 * The `WWW-Authenticate` (or `Proxy-Authenticate`) value a 401/407 carries, in the scheme the
 * client at hand answers: Basic for artifact clients (pip, apt, Maven, go and helm retry with the
 * credentials they hold only after a Basic challenge; npm and cargo send theirs up front), Bearer
 * and Basic for the management API (curl, the CLI).
 */
export function challengeFor(kind: 'artifact' | 'api' | 'proxy', realm: string): string {
  const basic = `Basic realm="${realm}", charset="UTF-8"`;
  return kind === 'api' ? `Bearer realm="${realm}", ${basic}` : basic;
}
