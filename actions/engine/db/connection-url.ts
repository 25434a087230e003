/**
 * The database URL an environment's url_env holds, checked before pg sees it: pg turns a
 * bad port into "Invalid URL" (a crash), a bare name or a libpq key=value string into
 * "getaddrinfo ENOTFOUND base". Here each is accepted (key=value becomes a URL) or refused
 * with the variable's name and the form expected, never with the value (it may hold a password).
 */
import { UserError } from '../errors.ts';

export interface UrlSource {
  /** The environment variable that holds the URL. */
  variable: string;
  /** The environment file that names it, and the environment's name. */
  file: string;
  environment: string;
}

const EXAMPLE = 'postgres://USER:PASSWORD@HOST:5432/DATABASE';

/** A URL pg can connect with, or a UserError that says what is wrong with the variable's value. */
export function connectionUrl(raw: string, source: UrlSource): string {
  const text = raw.trim();
  const url = isKeyValue(text) ? keyValueToUrl(text, source) : parseUrl(text, source);
  return withExplicitSslMode(url);
}

/** libpq's other form: `host=db port=5432 dbname=app user=me` (values may be 'single quoted'). */
function isKeyValue(text: string): boolean {
  return !text.includes('://') && /^[a-z_]+\s*=/i.test(text);
}

const KEYWORDS = new Set(['host', 'hostaddr', 'port', 'dbname', 'user', 'password', 'sslmode', 'application_name', 'connect_timeout', 'options', 'sslrootcert', 'sslcert', 'sslkey']);

function keyValueToUrl(text: string, source: UrlSource): URL {
  const pairs = new Map<string, string>();
  const pattern = /\s*([a-z_]+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S*))/giy;
  let match: RegExpExecArray | null;
  let end = 0;
  while ((match = pattern.exec(text)) !== null) {
    pairs.set(match[1].toLowerCase(), (match[2] ?? match[3] ?? '').replace(/\\(.)/g, '$1'));
    end = pattern.lastIndex;
  }
  const unknown = [...pairs.keys()].filter((k) => !KEYWORDS.has(k));
  if (text.slice(end).trim() !== '' || unknown.length > 0) {
    throw refused(source, `is a key=value connection string rollout cannot read${unknown.length ? ` (unknown keyword${unknown.length === 1 ? '' : 's'}: ${unknown.join(', ')})` : ''}`);
  }
  const url = new URL('postgres://localhost');
  const host = pairs.get('host') ?? pairs.get('hostaddr') ?? 'localhost';
  // A socket directory is a query parameter in pg's URLs (postgres:///db?host=/run/postgresql).
  if (host.startsWith('/')) {
    url.hostname = '';
    url.searchParams.set('host', host);
  } else url.hostname = host;
  const port = pairs.get('port');
  if (port !== undefined) {
    if (!/^\d{1,5}$/.test(port)) throw refused(source, `has port=${port}, which is not a number`);
    url.port = port;
  }
  if (pairs.has('user')) url.username = encodeURIComponent(pairs.get('user')!);
  if (pairs.has('password')) url.password = encodeURIComponent(pairs.get('password')!);
  url.pathname = `/${encodeURIComponent(pairs.get('dbname') ?? pairs.get('user') ?? 'postgres')}`;
  for (const key of ['sslmode', 'application_name', 'connect_timeout', 'options', 'sslrootcert', 'sslcert', 'sslkey']) {
    if (pairs.has(key)) url.searchParams.set(key, pairs.get(key)!);
  }
  return url;
}

function parseUrl(text: string, source: UrlSource): URL {
  if (/^[\w.-]+$/.test(text)) throw refused(source, 'holds just a name, not a URL');
  const port = /^[a-z]+:\/\/(?:[^@/]*@)?(?:\[[^\]]*\]|[^:/?#]*):([^/?#]*)/i.exec(text)?.[1];
  if (port !== undefined && port !== '' && !/^\d{1,5}$/.test(port)) throw refused(source, 'has a port that is not a number');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw refused(source, 'is not a URL rollout can read (characters such as @ : / # ? in the password must be percent-encoded, e.g. @ as %40)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw refused(source, `is a ${url.protocol.replace(/:$/, '')}: URL, not a postgres:// one`);
  return url;
}

/**
 * pg treats sslmode=prefer/require/verify-ca as verify-full and prints a multi-line SECURITY
 * WARNING saying so. Say it explicitly, so that the behaviour is the same and the warning goes
 * (docs/environments.md: the certificate is verified; uselibpqcompat=true gives libpq's modes).
 */
function withExplicitSslMode(url: URL): string {
  const mode = url.searchParams.get('sslmode');
  if (mode && ['prefer', 'require', 'verify-ca'].includes(mode) && !url.searchParams.has('uselibpqcompat')) url.searchParams.set('sslmode', 'verify-full');
  return url.toString();
}

function refused(source: UrlSource, what: string): UserError {
  return new UserError(
    `${source.variable} (the database URL of environment "${source.environment}", named by url_env in ${source.file}) ${what}. ` +
      `Expected a URL such as ${EXAMPLE} (or libpq's key=value form, e.g. "host=HOST port=5432 dbname=DATABASE user=USER"); fix the value of ${source.variable}.`,
  );
}
