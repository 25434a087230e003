/** Database URLs given as step inputs: parsed without ever echoing them, and put under the names the files give. */
import { describe, expect, it } from 'vitest';
import { loadEnvironment } from '../../actions/engine/config/repository.ts';
import { databaseEnvFor, withDatabaseUrls } from '../../actions/github/environment.ts';
import { parseApplyInputs, parsePlanInputs, parsePromoteInputs } from '../../actions/github/inputs.ts';
import { ROOT } from './support.ts';

const base = { GITHUB_WORKSPACE: ROOT, 'INPUT_GITHUB-TOKEN': 'ghs_x', INPUT_ENVIRONMENT: 'production' };

describe('database URL inputs', () => {
  it('are read from database-url and upstream-database-url, empty meaning not given', () => {
    const inputs = parsePlanInputs({ ...base, 'INPUT_DATABASE-URL': 'postgres://ro:pw@db/prod', 'INPUT_UPSTREAM-DATABASE-URL': '' });
    expect(inputs.databaseUrl).toBe('postgres://ro:pw@db/prod');
    expect(inputs.upstreamDatabaseUrl).toBeNull();
    expect(parsePromoteInputs({ ...base, INPUT_FROM: 'staging', 'INPUT_TARGET-DATABASE-URL': 'postgresql://x@y/z' }).targetDatabaseUrl).toBe('postgresql://x@y/z');
  });

  it('refuse a value that is not a postgres URL without printing it', () => {
    expect(() => parsePlanInputs({ ...base, 'INPUT_DATABASE-URL': 'mysql://root:hunter2@db/app' })).toThrow(/^Invalid input database-url \(its value is not shown\)\. Expected a postgres:\/\//);
    expect(() => parsePlanInputs({ ...base, 'INPUT_DATABASE-URL': 'mysql://root:hunter2@db/app' })).not.toThrow(/hunter2/);
  });

  it('reach the engine under the url_env names of the environment and of its upstream', () => {
    const { environment: production, repository } = loadEnvironment(ROOT, 'production');
    const env = databaseEnvFor({ PRODUCTION_READONLY_DATABASE_URL: 'postgres://stale@db/p', KEEP: '1' }, ROOT, production, { databaseUrl: 'postgres://w@db/p', upstreamDatabaseUrl: 'postgres://r@db/s' }, repository);
    expect(env).toMatchObject({ PRODUCTION_DATABASE_URL: 'postgres://w@db/p', STAGING_DATABASE_URL: 'postgres://r@db/s', KEEP: '1' });
    // The URL given wins over a read-only variable the same run may carry.
    expect(env.PRODUCTION_READONLY_DATABASE_URL).toBeUndefined();
    const untouched = { PRODUCTION_DATABASE_URL: 'postgres://env@db/p' };
    expect(withDatabaseUrls(untouched, [[production, null]])).toBe(untouched);
  });
});

describe('plan-hash input', () => {
  const apply = { ...base, INPUT_ENVIRONMENT: 'staging' };
  it('takes the full hash or 12 characters or more, and refuses a shorter prefix', () => {
    const full = 'ab'.repeat(32);
    expect(parseApplyInputs({ ...apply, 'INPUT_PLAN-HASH': full.toUpperCase() }).planHash).toBe(full);
    expect(parseApplyInputs({ ...apply, 'INPUT_PLAN-HASH': full.slice(0, 12) }).planHash).toBe(full.slice(0, 12));
    expect(parseApplyInputs({ ...apply, 'INPUT_PLAN-HASH': '' }).planHash).toBeNull();
    for (const short of ['a', full.slice(0, 7), full.slice(0, 11)]) {
      expect(() => parseApplyInputs({ ...apply, 'INPUT_PLAN-HASH': short })).toThrow(`Input plan-hash: Invalid plan hash '${short}'. Expected 12 to 64 hexadecimal characters`);
    }
  });
});
