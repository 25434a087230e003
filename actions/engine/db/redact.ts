/**
 * Database URLs carry passwords; anything we print goes through here first.
 */

/** Replace the password of a connection URL (and any password/sslkey-like query parameter) with "***". */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not a URL we can parse (e.g. a key=value DSN): hide every password=... pair, keep the rest.
    return url.replace(/(password\s*=\s*)('[^']*'|\S+)/gi, '$1***').replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
  if (parsed.password) parsed.password = '***';
  for (const key of [...parsed.searchParams.keys()]) {
    if (/pass|secret|token|sslkey/i.test(key)) parsed.searchParams.set(key, '***');
  }
  return parsed.toString();
}

/** Remove every occurrence of a secret from a message (e.g. a driver error that echoes the URL). */
export function scrubSecret(message: string, url: string): string {
  let result = message.split(url).join(redactUrl(url));
  try {
    const password = decodeURIComponent(new URL(url).password);
    if (password.length >= 3) result = result.split(password).join('***');
  } catch {
    // Not a URL: nothing more to scrub.
  }
  return result;
}
