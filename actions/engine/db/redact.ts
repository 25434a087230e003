/**
 * Database URLs carry passwords; anything we print about a connection goes through here
 * first. What a secret is lives in ../secrets.ts; this only shapes a URL for a message.
 */
import { maskUrlCredentials, secretScrubber } from '../secrets.ts';

/** Replace the password of a connection URL (and any password/sslkey-like query parameter) with "***". */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not a URL we can parse (e.g. a key=value DSN): hide every password=... pair, keep the rest.
    return maskUrlCredentials(url);
  }
  if (parsed.password) parsed.password = '***';
  for (const key of [...parsed.searchParams.keys()]) {
    if (/pass|secret|token|sslkey/i.test(key)) parsed.searchParams.set(key, '***');
  }
  return parsed.toString();
}

/** Remove every occurrence of a secret from a message (e.g. a driver error that echoes the URL). */
export function scrubSecret(message: string, url: string): string {
  return secretScrubber({ DATABASE_URL: url })(message.split(url).join(redactUrl(url)));
}
