/** The scrubber every printed line goes through, tested directly: what it masks and what it leaves. */
import { describe, expect, it } from 'vitest';
import { isSecretName, maskUrlCredentials, secretScrubber, secretValues } from '../../actions/engine/secrets.ts';
import { expandVariables } from '../../actions/engine/checks/kinds.ts';
import { redactUrl, scrubSecret } from '../../actions/engine/db/redact.ts';

describe('secret names', () => {
  it('are one pattern: passwords, tokens, secrets, keys and credentials, in any case', () => {
    for (const name of ['DB_PASSWORD', 'GITHUB_TOKEN', 'CLIENT_SECRET', 'API_KEY', 'STRIPE_SECRET_KEY', 'GCP_CREDENTIALS', 'AWS_CREDENTIAL', 'api_key', 'PASSWD']) {
      expect(isSecretName(name), name).toBe(true);
    }
    for (const name of ['PATH', 'HOME', 'DATABASE_URL', 'KEYSPACE', 'TOKENS_PER_SECOND']) expect(isSecretName(name), name).toBe(false);
  });

  it('are the same for check templates and for the scrubber: an API_KEY is neither shown nor printed', () => {
    const env = { API_KEY: 'k-1234567890', HOST: 'api.example.com' };
    const { value, shown } = expandVariables('https://${HOST}/health?key=${API_KEY}', env, 'check health');
    expect(value).toBe('https://api.example.com/health?key=k-1234567890');
    expect(shown).toBe('https://api.example.com/health?key=${API_KEY}');
    expect(secretScrubber(env)(`GET ${value} failed`)).toBe('GET https://api.example.com/health?key=*** failed');
  });
});

describe('secretScrubber', () => {
  it('masks what a fleet job is handed in ROLLOUT_TARGET_SECRETS by the same rules: each URL\'s password, each secret-named value', () => {
    const handed = { TENANT_ACME_URL: 'postgres://app:acme-pw-1@acme.db:5432/acme', github_token: 'ghs_fleet0123456789', REGION: 'eu-west-1' };
    const scrub = secretScrubber({ ROLLOUT_TARGET_SECRETS: JSON.stringify(handed) });
    expect(scrub('login acme-pw-1 failed; token ghs_fleet0123456789')).toBe('login *** failed; token ***');
    // Not a secret by name or place: left as it is.
    expect(scrub('in eu-west-1')).toBe('in eu-west-1');
    // Not JSON (the fleet commands refuse it with a message): nothing inside is guessed at, and nothing throws.
    expect(secretValues({ ROLLOUT_TARGET_SECRETS: '{not json' })).toEqual([]);
  });

  it('reads ROLLOUT_TARGET_SECRETS whatever it holds, and only that variable, as a bag of secrets', () => {
    // JSON that is not an object of strings: nothing is guessed at, and nothing throws.
    for (const json of ['null', '42', '"postgres://u:hidden-pw@h/db"', 'true']) expect(secretValues({ ROLLOUT_TARGET_SECRETS: json }), json).toEqual([]);
    // Values that are not strings are skipped; the strings beside them still count.
    const handed = { DEPLOY_TOKEN: 12345678, NESTED: { DB_PASSWORD: 'nested-pw-1' }, LIST: ['x'], API_TOKEN: 'tok-0123456789' };
    expect(secretValues({ ROLLOUT_TARGET_SECRETS: JSON.stringify(handed) })).toEqual(['tok-0123456789']);
    // Another variable holding JSON is one value, not a bag: its inner keys name nothing.
    expect(secretValues({ APP_SETTINGS: JSON.stringify({ DEPLOY_TOKEN: 'not-a-secret-here' }) })).toEqual([]);
  });

  it('masks a password of three characters or more, not a shorter one (it would mangle text)', () => {
    expect(secretValues({ CACHE_URL: 'redis://:ab@cache:6379', DSN: 'host=db password=xy' })).toEqual([]);
    expect(secretValues({ CACHE_URL: 'redis://:abc@cache:6379', DSN: 'host=db password=xyz' })).toEqual(['abc', 'xyz']);
    const scrub = secretScrubber({ CACHE_URL: 'redis://:ab@cache:6379', QUEUE_URL: 'amqp://q:k9z@mq/' });
    expect(scrub('ab: k9z')).toBe('ab: ***');
  });

  it('masks the values of secret-named variables wherever they appear', () => {
    const scrub = secretScrubber({ GITHUB_TOKEN: 'ghp_abcdef123456', DEPLOY_KEY: 'dk-987654321', NOTE: 'ghp_not_a_secret_name' });
    expect(scrub('token ghp_abcdef123456 and key dk-987654321, twice: ghp_abcdef123456')).toBe('token *** and key ***, twice: ***');
    // A variable whose name says nothing is not a secret; a short value is not masked (it would mangle text).
    expect(scrub('ghp_not_a_secret_name')).toBe('ghp_not_a_secret_name');
    expect(secretScrubber({ API_KEY: 'abc' })('abc abc')).toBe('abc abc');
  });

  it('masks the password of a URL-valued variable, decoded and percent-encoded, even out of its URL', () => {
    const env = { STAGING_DATABASE_URL: 'postgres://app:p%40ss%2Fw0rd@db.internal:5432/staging' };
    expect(secretValues(env)).toEqual(['p%40ss%2Fw0rd', 'p@ss/w0rd']);
    const scrub = secretScrubber(env);
    expect(scrub('auth failed for "p@ss/w0rd"')).toBe('auth failed for "***"');
    expect(scrub('raw p%40ss%2Fw0rd in a log')).toBe('raw *** in a log');
    expect(scrub('connect postgres://app:p%40ss%2Fw0rd@db.internal:5432/staging')).toBe('connect postgres://app:***@db.internal:5432/staging');
  });

  it('masks the password of a key=value DSN as written and percent-decoded', () => {
    const scrub = secretScrubber({ REPLICA_DSN: 'host=db password=p%40ss%3Dw0rd user=app', BROKEN_DSN: 'host=db password=50%off!' });
    expect(scrub('p%40ss%3Dw0rd or p@ss=w0rd')).toBe('*** or ***');
    // Not valid percent-encoding: the password as written is still masked, nothing throws.
    expect(scrub('said 50%off!')).toBe('said ***');
  });

  it('masks the password of a key=value DSN, bare or quoted', () => {
    const scrub = secretScrubber({ DATABASE_URL: "host=db user=app password='s3 cr\\'et' dbname=x", OTHER_DSN: 'host=db password=hunter22' });
    expect(scrub("password was s3 cr'et")).toBe('password was ***');
    expect(scrub('hunter22 leaked')).toBe('*** leaked');
  });

  it('masks URL credentials and password= pairs in text no variable holds', () => {
    const scrub = secretScrubber({});
    expect(scrub('see postgresql://admin:letmein@10.0.0.1/db and redis://:pw@cache')).toBe('see postgresql://admin:***@10.0.0.1/db and redis://:***@cache');
    expect(maskUrlCredentials('dsn host=db password=hunter2 user=app')).toBe('dsn host=db password=*** user=app');
    expect(maskUrlCredentials("password = 'a b c' next")).toBe('password = *** next');
    expect(maskUrlCredentials('https://x.example/?user=a&password=p1&mode=2')).toBe('https://x.example/?user=a&password=***&mode=2');
    // Text with nothing secret in it comes back unchanged.
    expect(scrub('plan 1a2b3c4d5e6f: 2 flags to change')).toBe('plan 1a2b3c4d5e6f: 2 flags to change');
  });

  it('masks a secret containing another secret whole', () => {
    const scrub = secretScrubber({ A_TOKEN: 'abcdef', B_TOKEN: 'abcdef-long-token' });
    expect(scrub('abcdef-long-token / abcdef')).toBe('*** / ***');
  });
});

describe('connection messages', () => {
  it('redact a URL and scrub a driver message that echoes it or its password', () => {
    const url = 'postgres://app:s3cr%40t@db:5432/prod';
    expect(redactUrl(url)).toBe('postgres://app:***@db:5432/prod');
    expect(scrubSecret(`connect ${url} failed: password "s3cr@t" rejected`, url)).toBe('connect postgres://app:***@db:5432/prod failed: password "***" rejected');
    expect(redactUrl('host=db password=hunter2 user=app')).toBe('host=db password=*** user=app');
  });
});
