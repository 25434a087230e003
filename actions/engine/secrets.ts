/**
 * What counts as a secret, in one place, and the last line of defence for printed text:
 * every log line, summary, comment and report goes through a scrubber built here.
 *
 * A secret is
 * - the value of a variable whose name says it is one (SECRET_NAME: …_PASSWORD, …_TOKEN,
 *   …_SECRET, …_KEY, …_CREDENTIAL(S));
 * - the password inside a URL-valued variable (DATABASE_URL and friends) or a key=value DSN
 *   (`host=db password=…`), in its decoded and its percent-encoded form;
 * - whatever sits in the password place of a URL or a `password=` pair in the text itself,
 *   whether or not a variable holds it (a user's file, a driver error).
 */
import { TARGET_SECRETS_VARIABLE } from './fleet/secrets.ts';

/** Names of variables whose values are never printed. */
export const SECRET_NAME = /(PASSWORD|PASSWD|TOKEN|SECRET|KEY|CREDENTIALS?)$/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@'"]*):[^\s/@'"]+@/gi;
/** `password=…` in a key=value DSN or a query string: the value up to a space, quote-aware. */
const PASSWORD_PAIR = /\b(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&'"]+)/gi;

/** Mask the password place of every URL and every password= pair in `text`. */
export function maskUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1:***@').replace(PASSWORD_PAIR, '$1***');
}

/** Shorter values are not treated as secrets: masking "abc" everywhere would mangle output. */
const MIN_NAMED_SECRET = 6;
const MIN_PASSWORD = 3;

/** The secrets a set of variables holds, longest first (so a secret containing another is masked whole). */
export function secretValues(env: NodeJS.ProcessEnv): string[] {
  const secrets = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    // A fleet's target URLs, handed over as one JSON object (fleet/secrets.ts): mask each of them.
    if (name === TARGET_SECRETS_VARIABLE) for (const secret of targetSecretValues(value)) secrets.add(secret);
    if (isSecretName(name) && value.length >= MIN_NAMED_SECRET) secrets.add(value);
    for (const password of passwordsIn(value)) if (password.length >= MIN_PASSWORD) secrets.add(password);
  }
  return [...secrets].sort((a, b) => b.length - a.length);
}

/** The secrets inside ROLLOUT_TARGET_SECRETS, by the same rules as variables (its keys are variable names). */
function targetSecretValues(json: string): string[] {
  let inner: unknown;
  try {
    inner = JSON.parse(json);
  } catch {
    return []; // not JSON: the fleet commands say so
  }
  if (!inner || typeof inner !== 'object') return [];
  return secretValues(Object.fromEntries(Object.entries(inner).flatMap(([k, v]) => (typeof v === 'string' ? [[k.toUpperCase(), v]] : []))));
}

/** The password of a URL or of a key=value DSN, as written and decoded. */
function passwordsIn(value: string): string[] {
  const found: string[] = [];
  if (value.includes('://')) {
    try {
      const { password } = new URL(value);
      if (password) found.push(password, safeDecode(password));
    } catch {
      // not a URL
    }
  }
  for (const match of value.matchAll(PASSWORD_PAIR)) {
    const raw = match[2].startsWith("'") ? match[2].slice(1, -1).replace(/\\(.)/g, '$1') : match[2];
    found.push(raw, safeDecode(raw));
  }
  return found;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A scrubber for everything printed or written while these variables are set. */
export function secretScrubber(env: NodeJS.ProcessEnv): (text: string) => string {
  const secrets = secretValues(env);
  return (text) => secrets.reduce((acc, secret) => acc.split(secret).join('***'), maskUrlCredentials(text));
}
