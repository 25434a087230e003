/** The url_env value checked before pg sees it (issue 13, defect 6): accepted, or refused naming the variable, never echoing it. */
import { describe, expect, it } from 'vitest';
import { connectionUrl } from '../../actions/engine/db/connection-url.ts';
import { UserError } from '../../actions/engine/errors.ts';

const source = { variable: 'STAGING_DATABASE_URL', file: 'environments/staging.yaml', environment: 'staging' };

function refusal(raw: string): string {
  try {
    connectionUrl(raw, source);
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${raw}`);
}

describe('connectionUrl', () => {
  it('passes a postgres URL through', () => {
    expect(connectionUrl('postgres://app:pw@db.internal:5433/shop', source)).toBe('postgres://app:pw@db.internal:5433/shop');
    expect(connectionUrl(' postgresql://db/shop\n', source)).toBe('postgresql://db/shop');
  });

  it("accepts libpq's key=value form", () => {
    expect(connectionUrl("host=db.internal port=5433 dbname=shop user=app password='p w@x'", source)).toBe('postgres://app:p%20w%40x@db.internal:5433/shop');
    expect(connectionUrl('host=/run/postgresql dbname=shop', source)).toBe('postgres:///shop?host=%2Frun%2Fpostgresql');
  });

  it('says sslmode=require verifies the certificate (what pg does), so pg prints no SECURITY WARNING', () => {
    expect(connectionUrl('postgres://db/shop?sslmode=require', source)).toBe('postgres://db/shop?sslmode=verify-full');
    expect(connectionUrl('postgres://db/shop?sslmode=require&uselibpqcompat=true', source)).toBe('postgres://db/shop?sslmode=require&uselibpqcompat=true');
  });

  it('refuses a non-numeric port, a bare name, another scheme and a bad key=value string, naming the variable and not the value', () => {
    const port = refusal('postgres://app:hunter22@db:54x32/shop');
    expect(port).toMatch(/^STAGING_DATABASE_URL \(the database URL of environment "staging", named by url_env in environments\/staging\.yaml\) has a port that is not a number\. Expected a URL such as postgres:\/\//);
    expect(port).not.toContain('hunter22');
    expect(refusal('ux_staging')).toContain('holds just a name, not a URL');
    expect(refusal('mysql://db/shop')).toContain('is a mysql: URL, not a postgres:// one');
    expect(refusal('host=db port=five')).toContain('has port=five, which is not a number');
    expect(refusal('host=db colour=blue')).toContain('unknown keyword: colour');
  });
});
