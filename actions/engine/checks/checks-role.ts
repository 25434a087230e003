/**
 * The checks role: what every check and monitor transaction runs as. A check's SQL comes
 * from a pull request, and whatever already exists in the database (a function that signals
 * backends, a view over dblink, a function that runs COPY … TO PROGRAM) runs with the
 * privileges of whoever runs the check. So checks never run as a role with power to act:
 *
 * - apply creates the role (NOLOGIN, not a superuser, no replication) or is told its name,
 *   takes it out of the predefined roles that act outside a transaction, lets the connecting
 *   role SET ROLE to it, and grants it USAGE and SELECT on the schemas the checks read;
 * - every check connection audits the roles it could run as (guard.ts) and refuses to run
 *   check SQL when the only role at hand has any of those powers.
 */
import type pg from 'pg';
import { DEFAULT_CHECKS_ROLE, type ChecksRoleSettings, type Environment } from '../config/model.ts';
import { UserError } from '../errors.ts';

/** Predefined roles whose members can act outside a read-only transaction (those the server has). */
export const POWERFUL_ROLES = [
  'pg_signal_backend', 'pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files',
  'pg_write_all_data', 'pg_checkpoint', 'pg_create_subscription', 'pg_signal_autovacuum_worker',
];

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export function checksRoleOf(env: Environment): ChecksRoleSettings {
  const settings = env.checksRole ?? DEFAULT_CHECKS_ROLE;
  if (!IDENTIFIER.test(settings.name)) throw new UserError(`database.checks_role.name '${settings.name}' is not a plain lower-case identifier.`);
  return settings;
}

/** The schemas the role reads: the configured ones, rollout's own, and the flag store's. */
export function checksRoleSchemas(env: Environment): string[] {
  const flagSchema = env.flagTable?.split('.')[0];
  const schemas = [...checksRoleOf(env).schemas, 'rollout', ...(flagSchema ? [flagSchema] : [])];
  const unique = [...new Set(schemas)];
  const bad = unique.find((s) => !IDENTIFIER.test(s));
  if (bad) throw new UserError(`database.checks_role.schemas: '${bad}' is not a plain lower-case identifier.`);
  return unique;
}

/** What a role could do that a check must not: superuser, replication, powerful memberships, writes to tables. */
export interface RolePowers {
  role: string;
  powers: string[];
  /** dblink functions it may execute (usually through PUBLIC). */
  dblink: string[];
}

/** $1: role names to audit; $2: POWERFUL_ROLES. */
export const ROLE_POWERS_SQL = `
SELECT r.rolname::text AS role,
       array_remove(ARRAY[
         CASE WHEN r.rolsuper THEN 'is a superuser' END,
         CASE WHEN r.rolreplication THEN 'has REPLICATION' END,
         CASE WHEN NOT r.rolsuper AND EXISTS (
           SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
              AND has_table_privilege(r.oid, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE'))
           THEN 'can write to tables' END
       ] || array(SELECT 'is a member of ' || g.rolname FROM pg_roles g
                   WHERE NOT r.rolsuper AND g.rolname = ANY($2::text[]) AND pg_has_role(r.oid, g.oid, 'MEMBER') ORDER BY g.rolname), NULL) AS powers,
       array(SELECT DISTINCT p.proname::text FROM pg_proc p
              WHERE p.proname LIKE 'dblink%' AND has_function_privilege(r.oid, p.oid, 'EXECUTE') ORDER BY 1) AS dblink
  FROM pg_roles r
 WHERE r.rolname = ANY($1::text[])`;

/**
 * Create or repair the role and let the connecting role switch to it. Runs before anything
 * is applied, so that an environment whose checks could not run safely fails with nothing
 * changed. Without checks or monitors a role that cannot be made is no reason to refuse.
 */
export async function prepareChecksRole(client: pg.ClientBase, env: Environment): Promise<void> {
  const settings = checksRoleOf(env);
  if (!settings.manage) return;
  const role = settings.name;
  try {
    await client.query(prepareSql(role));
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (env.checks.length === 0 && env.monitors.length === 0) return;
    if (code !== '42501' && code !== '0LP01') throw error;
    throw new UserError(
      `cannot prepare the checks role ${role} for ${env.name}: ${(error as Error).message}. Nothing was applied. ` +
        `Give the role that applies CREATEROLE, or have a DBA run: CREATE ROLE ${role} NOLOGIN; GRANT ${role} TO <the role that applies>; ` +
        `GRANT USAGE ON SCHEMA … and SELECT ON ALL TABLES IN SCHEMA … TO ${role}; then set database.checks_role.manage: false (docs/checks.md).`,
      { cause: error },
    );
  }
}

/** USAGE and SELECT on every table and view of the schemas, now and for tables created later. Runs after migrations. */
export async function grantChecksRole(client: pg.ClientBase, env: Environment): Promise<void> {
  const settings = checksRoleOf(env);
  if (!settings.manage) return;
  await client.query(grantSql(settings.name, checksRoleSchemas(env)));
}

/**
 * One DO block: nothing here can be parameterised, so the role name goes in as text that
 * checksRoleOf has checked is a plain identifier. Each step runs only when needed, so a
 * re-run changes no catalog row, and two applies on one server racing to create the role
 * both succeed.
 */
function prepareSql(role: string): string {
  const powerful = POWERFUL_ROLES.map((r) => `'${r}'`).join(', ');
  return `DO $rollout$
DECLARE
  me record;
  it record;
  powerful text;
BEGIN
  SELECT * INTO me FROM pg_roles WHERE rolname = current_user;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN
    BEGIN
      -- BYPASSRLS (when the applier may give it): checks see the rows the owner sees, as they did before.
      EXECUTE 'CREATE ROLE ${role} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION'
        || CASE WHEN me.rolsuper OR me.rolbypassrls THEN ' BYPASSRLS' ELSE '' END;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- another apply on this server created it first
    END;
  END IF;
  SELECT * INTO it FROM pg_roles WHERE rolname = '${role}';
  IF it.rolsuper OR it.rolcanlogin OR it.rolreplication OR it.rolcreaterole OR it.rolcreatedb THEN
    EXECUTE 'ALTER ROLE ${role} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION';
  END IF;
  FOR powerful IN SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                   WHERE m.member = it.oid AND g.rolname IN (${powerful}) LOOP
    EXECUTE format('REVOKE %I FROM ${role}', powerful);
  END LOOP;
  IF NOT pg_has_role(current_user, it.oid, CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 'SET' ELSE 'MEMBER' END) THEN
    EXECUTE 'GRANT ${role} TO ' || quote_ident(current_user);
  END IF;
END
$rollout$`;
}

function grantSql(role: string, schemas: string[]): string {
  const list = schemas.map((s) => `'${s}'`).join(', ');
  return `DO $rollout$
DECLARE
  s text;
  t regclass;
BEGIN
  FOR s IN SELECT nspname FROM pg_namespace WHERE nspname IN (${list}) LOOP
    IF NOT has_schema_privilege('${role}', s, 'USAGE') THEN
      EXECUTE format('GRANT USAGE ON SCHEMA %I TO ${role}', s);
    END IF;
    -- Tables created later by the role that applies (its migrations) are readable at once.
    IF NOT EXISTS (SELECT 1 FROM pg_default_acl d, aclexplode(d.defaclacl) a
                    WHERE d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = current_user)
                      AND d.defaclnamespace = (SELECT oid FROM pg_namespace WHERE nspname = s)
                      AND d.defaclobjtype = 'r' AND a.grantee = '${role}'::regrole AND a.privilege_type = 'SELECT') THEN
      EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT ON TABLES TO ${role}', s);
    END IF;
  END LOOP;
  FOR t IN SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname IN (${list}) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
              AND NOT has_table_privilege('${role}', c.oid, 'SELECT')
              AND pg_has_role(current_user, c.relowner, 'USAGE') LOOP
    EXECUTE format('GRANT SELECT ON %s TO ${role}', t);
  END LOOP;
END
$rollout$`;
}
