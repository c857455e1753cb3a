/**
 * A URL with credentials and every query value removed, for logs, errors and responses. Query
 * values are where presigned URLs (`X-Amz-Signature`, `token`) carry their secrets; keys stay so
 * a reader can still tell which parameters were there.
 */
export function redact(url: URL | string): string {
  let copy: URL;
  try {
    copy = new URL(typeof url === 'string' ? url : url.href);
  } catch {
    // Not a URL (a malformed Location): scrubbed as text, never echoed as it came.
    return redactText(String(url));
  }
  copy.username = ''; copy.password = '';
  for (const key of [...new Set(copy.searchParams.keys())]) copy.searchParams.set(key, '…');
  return copy.href;
}

/**
 * Free text (an error message, a stack line) with the credentials and query values of every URL
 * in it removed. For text that was not built with `redact()`, such as a library's message.
 */
export function redactText(text: string): string {
  // NOTE: every log line's text fields pass here (the access log's too): a text without '@' or
  // '=' has nothing to remove, and skips both scans.
  let out = text;
  // `scheme://user:pass@`: the userinfo ends at the last '@' before the next '/', space or quote.
  if (out.includes('@')) out = out.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@'"<>]*@/gi, '$1');
  if (out.includes('=')) out = out.replace(/([?&])([^=&\s#'"<>]+)=[^&\s#'"<>]*/g, '$1$2=…');
  return out;
}
