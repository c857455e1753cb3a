/**
 * The token a request carries, the way each client sends one: `Bearer <token>` (npm's
 * `_authToken`, helm, curl), Basic with the token as password and any user name (pip's
 * `https://user:token@…`, docker/skopeo login, apt's auth.conf, Maven's `<server>`, go's .netrc),
 * or the bare token (cargo sends its token as the whole header value).
 */
export function tokenFromHeader(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  const space = trimmed.indexOf(' ');
  // A scheme with nothing after it (`Bearer `) carries no token.
  if (space < 0) return trimmed && !/^(bearer|basic|token)$/i.test(trimmed) ? trimmed : undefined;
  const scheme = trimmed.slice(0, space).toLowerCase();
  const rest = trimmed.slice(space + 1).trim();
  if (scheme === 'bearer' || scheme === 'token') return rest || undefined;
  if (scheme === 'basic') {
    let decoded: string;
    try {
      decoded = Buffer.from(rest, 'base64').toString('utf8');
    } catch {
      return undefined;
    }
    const colon = decoded.indexOf(':');
    // A user name alone (`user:` empty password) carries no token: some clients send the token as the user.
    const password = colon < 0 ? decoded : decoded.slice(colon + 1);
    const user = colon < 0 ? '' : decoded.slice(0, colon);
    return password || user || undefined;
  }
  return undefined;
}
