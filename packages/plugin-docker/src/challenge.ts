/** One `WWW-Authenticate` challenge: its scheme and parameters (`realm`, `service`, `scope`, ...). */
export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Parses a `WWW-Authenticate` header (RFC 7235): `Bearer realm="…",service="…",scope="…"`.
 * Quoted values may contain commas and escaped quotes. Several challenges in one header are
 * split at each new scheme; the first with a known scheme is the one to answer.
 */
export function parseChallenges(header: string): Challenge[] {
  const challenges: { scheme: string; params: Record<string, string> }[] = [];
  const token = /\s*([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]*))?\s*,?/gy;
  let match: RegExpExecArray | null;
  while (token.lastIndex < header.length && (match = token.exec(header))) {
    if (match[0] === '') break;
    const [, name, assignment, , quoted] = match;
    if (!assignment) {
      challenges.push({ scheme: name!.toLowerCase(), params: {} });
      continue;
    }
    const value = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : assignment.replace(/^\s*=\s*/, '');
    const current = challenges.at(-1);
    if (current) current.params[name!.toLowerCase()] = value;
  }
  return challenges;
}
