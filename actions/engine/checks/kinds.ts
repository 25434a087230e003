/**
 * The check kinds. Each takes a check as written (snake_case) and returns what it found;
 * the runner adds the name, duration and source. Every query goes through runReadOnly.
 */
import { parseDuration, formatDuration } from '../config/duration.ts';
import type { ContractRegistry } from '../config/contracts.ts';
import type { CheckSpec, JsonValue } from '../config/model.ts';
import { isSecretName, maskUrlCredentials } from '../secrets.ts';
import { asNumber, sameValue, show } from './compare.ts';
import { runReadOnly, type CheckConnection } from './guard.ts';
import { reportedFlagMismatches } from './reported-flags.ts';
import type { CheckKind, CheckResult } from './types.ts';

export type KindResult = Omit<CheckResult, 'name' | 'source' | 'durationMs'>;

export interface KindContext {
  connection(): Promise<CheckConnection>;
  timeoutMs: number;
  processEnv: NodeJS.ProcessEnv;
  contracts: ContractRegistry;
  /** Live flag values (the value table): what http.reports_flags compares a body with. */
  flags: ReadonlyMap<string, JsonValue>;
  /** rows_satisfy reports at most this many violating rows. */
  maxViolations: number;
}

type Expect = { rows?: number; min_rows?: number; max_rows?: number; no_rows?: true; value?: JsonValue; between?: [number, number] };

export function kindOf(spec: CheckSpec): CheckKind {
  if (spec.rows_satisfy !== undefined) return 'rows_satisfy';
  if (spec.http !== undefined) return 'http';
  if (spec.explain !== undefined) return 'explain';
  if (spec.schema !== undefined) return 'schema';
  if (typeof spec.sql === 'string') return 'sql';
  return 'invalid';
}

export function runKind(spec: CheckSpec, ctx: KindContext): Promise<KindResult> {
  switch (kindOf(spec)) {
    case 'sql':
      return sqlCheck(spec, ctx);
    case 'schema':
      return schemaCheck(spec, ctx);
    case 'explain':
      return explainCheck(spec, ctx);
    case 'http':
      return httpCheck(spec, ctx);
    case 'rows_satisfy':
      return rowsSatisfyCheck(spec, ctx);
    default:
      return Promise.resolve({
        kind: 'invalid',
        status: 'error',
        detail: `check "${spec.name}" says nothing to run: give it one of sql (with expect), schema, explain, http, rows_satisfy or use.`,
      });
  }
}

/** latency_budget: a pass becomes a fail when the measured time is over budget. */
function overBudget(spec: CheckSpec, durationMs: number): string | undefined {
  const budget = typeof spec.latency_budget === 'string' ? parseDuration(spec.latency_budget) : undefined;
  if (budget === undefined || durationMs <= budget) return undefined;
  return `took ${formatDuration(durationMs)}, over its latency budget of ${formatDuration(budget)}`;
}

async function sqlCheck(spec: CheckSpec, ctx: KindContext): Promise<KindResult> {
  const sql = spec.sql as string;
  const expect = (spec.expect ?? {}) as Expect;
  const result = await runReadOnly<Record<string, unknown>>(await ctx.connection(), { text: sql }, ctx.timeoutMs);
  const rows = result.rows;
  const first = rows.length > 0 ? rows[0][result.fields[0]] : undefined;
  const failures: { expected: string; actual: string }[] = [];
  if (expect.rows !== undefined && rows.length !== expect.rows) failures.push({ expected: `${expect.rows} row(s)`, actual: `${rows.length} row(s)` });
  if (expect.min_rows !== undefined && rows.length < expect.min_rows) failures.push({ expected: `at least ${expect.min_rows} row(s)`, actual: `${rows.length} row(s)` });
  if (expect.max_rows !== undefined && rows.length > expect.max_rows) failures.push({ expected: `at most ${expect.max_rows} row(s)`, actual: `${rows.length} row(s)` });
  if (expect.no_rows === true && rows.length > 0) failures.push({ expected: 'no rows', actual: `${rows.length} row(s), first: ${show(rows[0])}` });
  if ('value' in expect) {
    if (rows.length === 0) failures.push({ expected: `value ${show(expect.value)}`, actual: 'no rows' });
    else if (!sameValue(expect.value as JsonValue, first)) failures.push({ expected: `value ${show(expect.value)}`, actual: `value ${show(first)}` });
  }
  if (expect.between) {
    const [min, max] = expect.between;
    if (rows.length === 0) failures.push({ expected: `values within [${min}, ${max}]`, actual: 'no rows' });
    const outside = rows.map((r) => r[result.fields[0]]).find((v) => {
      const n = asNumber(v);
      return n === undefined || n < min || n > max;
    });
    if (rows.length > 0 && outside !== undefined) failures.push({ expected: `values within [${min}, ${max}]`, actual: `value ${show(outside)}` });
  }
  const summaryActual = rows.length === 1 && result.fields.length === 1 ? `value ${show(first)}` : `${rows.length} row(s)`;
  const slow = overBudget(spec, result.durationMs);
  if (failures.length > 0) {
    return {
      kind: 'sql',
      status: 'fail',
      detail: `expected ${failures.map((f) => f.expected).join(' and ')}; got ${failures.map((f) => f.actual).join(' and ')}${slow ? `; also ${slow}` : ''}`,
      expected: failures.map((f) => f.expected).join('; '),
      actual: failures.map((f) => f.actual).join('; '),
      query: sql,
    };
  }
  if (slow) return { kind: 'sql', status: 'fail', detail: slow, expected: `at most ${spec.latency_budget as string}`, actual: formatDuration(result.durationMs), query: sql };
  return { kind: 'sql', status: 'pass', detail: summaryActual, actual: summaryActual, query: sql };
}

const SCHEMA_SQL = `
SELECT 'tables' AS kind, n AS name, EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = to_regclass(n) AND c.relkind IN ('r', 'p', 'f')) AS present, NULL::text AS note
  FROM unnest($1::text[]) AS n
UNION ALL
SELECT 'views', n, EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = to_regclass(n) AND c.relkind IN ('v', 'm')), NULL
  FROM unnest($2::text[]) AS n
UNION ALL
SELECT 'indexes', n, EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = to_regclass(n) AND c.relkind IN ('i', 'I')), NULL
  FROM unnest($3::text[]) AS n
UNION ALL
SELECT 'functions', n,
       CASE WHEN position('(' IN n) > 0 THEN to_regprocedure(n) IS NOT NULL
            ELSE EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace s ON s.oid = p.pronamespace
                          WHERE p.proname = split_part(n, '.', CASE WHEN position('.' IN n) > 0 THEN 2 ELSE 1 END)
                            AND CASE WHEN position('.' IN n) > 0 THEN s.nspname = split_part(n, '.', 1) ELSE pg_function_is_visible(p.oid) END) END,
       NULL
  FROM unnest($4::text[]) AS n
UNION ALL
SELECT 'policies', p.t || coalesce(' ' || p.name, ''),
       EXISTS (SELECT 1 FROM pg_policy pol WHERE pol.polrelid = to_regclass(p.t) AND (p.name IS NULL OR pol.polname = p.name))
         AND coalesce((SELECT c.relrowsecurity FROM pg_class c WHERE c.oid = to_regclass(p.t)), false),
       CASE WHEN to_regclass(p.t) IS NULL THEN 'table missing'
            WHEN NOT (SELECT c.relrowsecurity FROM pg_class c WHERE c.oid = to_regclass(p.t)) THEN 'row level security is not enabled on the table'
            ELSE NULL END
  FROM jsonb_to_recordset($5::jsonb) AS p(t text, name text)`;

async function schemaCheck(spec: CheckSpec, ctx: KindContext): Promise<KindResult> {
  const schema = spec.schema as { tables?: string[]; views?: string[]; functions?: string[]; indexes?: string[]; policies?: { table: string; name?: string }[] };
  const policies = (schema.policies ?? []).map((p) => ({ t: p.table, name: p.name ?? null }));
  const values = [schema.tables ?? [], schema.views ?? [], schema.indexes ?? [], schema.functions ?? [], JSON.stringify(policies)];
  const result = await runReadOnly<{ kind: string; name: string; present: boolean; note: string | null }>(
    await ctx.connection(),
    { text: SCHEMA_SQL, values, trusted: true },
    ctx.timeoutMs,
  );
  const total = result.rows.length;
  const missing = result.rows.filter((r) => !r.present);
  const query = describeSchema(schema);
  if (total === 0) return { kind: 'schema', status: 'error', detail: 'schema check lists nothing: add tables, views, functions, indexes or policies.', query };
  if (missing.length === 0) return { kind: 'schema', status: 'pass', detail: `all ${total} present`, actual: `all ${total} present`, query };
  const list = missing.map((r) => `${singular(r.kind)} ${r.name}${r.kind === 'policies' && r.note ? ` (${r.note})` : ''}`);
  return {
    kind: 'schema',
    status: 'fail',
    detail: `missing: ${list.join(', ')}`,
    expected: `${total} present`,
    actual: `${total - missing.length} present; missing ${list.join(', ')}`,
    query,
  };
}

const singular = (kind: string): string => ({ tables: 'table', views: 'view', functions: 'function', indexes: 'index', policies: 'RLS policy on' })[kind] ?? kind;

function describeSchema(schema: Record<string, unknown>): string {
  return Object.entries(schema)
    .map(([kind, items]) => `${kind}: ${(items as unknown[]).map((i) => (typeof i === 'string' ? i : show(i))).join(', ')}`)
    .join('; ');
}

const INDEX_NODES = new Set(['Index Scan', 'Index Only Scan', 'Bitmap Index Scan']);

/** An index scan of the plan; with ANALYZE, what it actually did (per loop, as EXPLAIN reports it). */
interface IndexScan {
  index: string;
  actualRows?: number;
  loops?: number;
}

/**
 * EXPLAIN (FORMAT JSON) with enable_seqscan = off: the question is "CAN this query use
 * the index", not "does the planner prefer it today" — on a small or freshly created
 * table the planner rightly picks a Seq Scan, and a check must not flap with table size.
 * `analyze: true` (seed 002's EXPLAIN ANALYZE) also runs the query, so the plan carries
 * actual row counts, and an index scan counts only if it actually ran (a branch the
 * executor never entered reports no loops). Running is safe for the same reasons as any
 * check: the guard lets EXPLAIN through only around a plain SELECT, inside its READ ONLY
 * transaction as the checks role.
 */
async function explainCheck(spec: CheckSpec, ctx: KindContext): Promise<KindResult> {
  const { sql, uses_index: index, analyze = false } = spec.explain as { sql: string; uses_index: string; analyze?: boolean };
  const wanted = index.includes('.') ? index.slice(index.lastIndexOf('.') + 1) : index;
  const text = `EXPLAIN (${analyze ? 'ANALYZE, ' : ''}FORMAT JSON) ${sql}`;
  const result = await runReadOnly<Record<string, unknown>>(await ctx.connection(), { text, settings: { enable_seqscan: 'off' } }, ctx.timeoutMs);
  const raw = result.rows[0]?.[result.fields[0]];
  const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as unknown;
  const scans: IndexScan[] = [];
  collectIndexScans(plan, scans);
  const ran = analyze ? scans.filter((s) => (s.loops ?? 0) > 0) : scans;
  const used = ran.map(describeScan);
  const query = `EXPLAIN ${analyze ? 'ANALYZE ' : ''}${sql}`;
  const hit = ran.find((s) => s.index === wanted);
  if (hit) return { kind: 'explain', status: 'pass', detail: `uses index ${describeScan(hit)}`, actual: `scans ${used.join(', ')}`, query };
  const notRun = analyze && scans.some((s) => s.index === wanted) ? ' (it is in the plan, but the executor never ran that scan)' : '';
  return {
    kind: 'explain',
    status: 'fail',
    detail: `the plan does not use index ${wanted}${notRun}${used.length ? ` (it uses ${used.join(', ')})` : ' (no index scan at all, even with enable_seqscan = off)'}: is the index missing or does the query not match it?`,
    expected: `an Index Scan, Index Only Scan or Bitmap Index Scan on ${wanted}${analyze ? ' that runs' : ''}`,
    actual: used.length ? `index scans on ${used.join(', ')}` : `plan: ${planShape(plan)}`,
    query,
  };
}

/** "idx" or, with ANALYZE, "idx (actual rows 250 × 1 loop)": EXPLAIN's actual rows are per loop. */
function describeScan(scan: IndexScan): string {
  if (scan.actualRows === undefined || scan.loops === undefined) return scan.index;
  return `${scan.index} (actual rows ${scan.actualRows} × ${scan.loops} loop${scan.loops === 1 ? '' : 's'})`;
}

function collectIndexScans(node: unknown, out: IndexScan[]): void {
  if (Array.isArray(node)) {
    for (const item of node) collectIndexScans(item, out);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const record = node as Record<string, unknown>;
  if (typeof record['Node Type'] === 'string' && INDEX_NODES.has(record['Node Type']) && typeof record['Index Name'] === 'string') {
    const actualRows = record['Actual Rows'];
    const loops = record['Actual Loops'];
    out.push({ index: record['Index Name'], ...(typeof actualRows === 'number' && typeof loops === 'number' ? { actualRows, loops } : {}) });
  }
  for (const value of Object.values(record)) collectIndexScans(value, out);
}

function planShape(node: unknown): string {
  const types: string[] = [];
  const visit = (n: unknown): void => {
    if (Array.isArray(n)) n.forEach(visit);
    else if (typeof n === 'object' && n !== null) {
      const r = n as Record<string, unknown>;
      if (typeof r['Node Type'] === 'string') types.push(`${r['Node Type']}${typeof r['Relation Name'] === 'string' ? ` on ${r['Relation Name']}` : ''}`);
      Object.values(r).forEach(visit);
    }
  };
  visit(node);
  return types.join(' → ') || 'empty';
}

/** Replace ${VAR} with its value; an unset variable is an error that names it. Returns the text to send and the text to show. */
export function expandVariables(template: string, env: NodeJS.ProcessEnv, where: string): { value: string; shown: string } {
  let shown = '';
  let value = '';
  let last = 0;
  for (const match of template.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
    const name = match[1];
    const found = env[name];
    if (found === undefined) throw new CheckConfigError(`environment variable ${name} is not set (used in ${where}). Set it, e.g. export ${name}=…, or in GitHub Actions env: ${name}: \${{ vars.${name} }}.`);
    value += template.slice(last, match.index) + found;
    shown += template.slice(last, match.index) + (isSecretName(name) ? match[0] : found);
    last = (match.index ?? 0) + match[0].length;
  }
  return { value: value + template.slice(last), shown: maskUrlCredentials(shown + template.slice(last)) };
}

/** The check as written cannot run (unset variable, missing contract): the user's to fix. */
export class CheckConfigError extends Error {
  override readonly name = 'CheckConfigError';
}

const MAX_BODY = 1_000_000;

async function httpCheck(spec: CheckSpec, ctx: KindContext): Promise<KindResult> {
  const { httpStatus: _status, ...result } = await probeHttp(spec, ctx);
  return result;
}

/** The http check's request and verdict, with the status the endpoint answered (an HTTP monitor's measurement; none without an answer). */
export async function probeHttp(spec: CheckSpec, ctx: KindContext): Promise<KindResult & { httpStatus?: number }> {
  const http = spec.http as { method?: string; url: string; headers?: Record<string, string>; body?: JsonValue; expect_status?: number; contract?: string; reports_flags?: Record<string, string> };
  const method = http.method ?? 'GET';
  const url = expandVariables(http.url, ctx.processEnv, `check "${spec.name}" http.url`);
  const shownUrl = `${method} ${url.shown}`;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(http.headers ?? {})) headers[name] = expandVariables(value, ctx.processEnv, `check "${spec.name}" http.headers.${name}`).value;
  let body: string | undefined;
  if (http.body !== undefined) {
    body = typeof http.body === 'string' ? http.body : JSON.stringify(http.body);
    if (typeof http.body !== 'string' && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  const contract = http.contract ? ctx.contracts.get(http.contract) : undefined;
  if (contract && !contract.ok) throw new CheckConfigError(`contract '${http.contract}' ${contract.reason === 'missing' ? `not found: expected ${ctx.contracts.fileOf(http.contract ?? '')}` : 'is broken (run rollout validate)'}.`);

  const started = performance.now();
  let response: Response;
  try {
    response = await fetch(url.value, { method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(ctx.timeoutMs), redirect: 'manual' });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${formatDuration(ctx.timeoutMs)}` : (cause?.code ?? cause?.message ?? (error as Error).message);
    return { kind: 'http', status: 'error', detail: `request failed: ${reason}`, expected: expectedStatus(http.expect_status), actual: 'no response', url: shownUrl };
  }
  const text = await readLimited(response);
  const durationMs = performance.now() - started;
  const statusOk = http.expect_status !== undefined ? response.status === http.expect_status : response.status >= 200 && response.status < 300;
  const actual = `HTTP ${response.status}`;
  if (!statusOk) {
    return { httpStatus: response.status, kind: 'http', status: 'fail', detail: `expected ${expectedStatus(http.expect_status)}, got ${actual}${text ? `: ${show(text, 120)}` : ''}`, expected: expectedStatus(http.expect_status), actual, url: shownUrl };
  }
  const reports = http.reports_flags;
  if (contract?.ok || reports) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      const wanted = contract?.ok ? `satisfy contract '${contract.name}'` : 'report its flags';
      return { httpStatus: response.status, kind: 'http', status: 'fail', detail: `the body is not JSON, so it cannot ${wanted}: ${show(text, 120)}`, expected: contract?.ok ? `JSON satisfying ${contract.file}` : 'JSON reporting the live flags', actual: show(text, 200), url: shownUrl };
    }
    if (contract?.ok && !contract.validate(parsed)) {
      const errors = contractErrors(contract.validate.errors);
      return { httpStatus: response.status, kind: 'http', status: 'fail', detail: `the body breaks contract '${contract.name}': ${errors.join('; ')}`, expected: `body satisfying ${contract.file}`, actual: show(parsed, 300), url: shownUrl };
    }
    const mismatches = reports ? reportedFlagMismatches(parsed, reports, ctx.flags) : [];
    if (mismatches.length > 0) {
      return { httpStatus: response.status, kind: 'http', status: 'fail', detail: `the body does not report the live flags: ${mismatches.join('; ')}`, expected: 'the live flags, as a plain read returns them', actual: show(parsed, 300), url: shownUrl };
    }
  }
  const slow = overBudget(spec, durationMs);
  if (slow) return { httpStatus: response.status, kind: 'http', status: 'fail', detail: slow, expected: `at most ${spec.latency_budget as string}`, actual: formatDuration(durationMs), url: shownUrl };
  const said = [contract?.ok ? `body satisfies ${contract.name}` : '', reports ? `reports ${Object.keys(reports).length} flag(s) as live` : ''].filter(Boolean);
  return { httpStatus: response.status, kind: 'http', status: 'pass', detail: [actual, ...said].join(', '), actual, url: shownUrl };
}

const expectedStatus = (status: number | undefined): string => (status !== undefined ? `HTTP ${status}` : 'HTTP 2xx');

async function readLimited(response: Response): Promise<string> {
  const bytes = Buffer.from(await response.arrayBuffer());
  return bytes.subarray(0, MAX_BODY).toString('utf8');
}

function contractErrors(errors: readonly { instancePath: string; message?: string }[] | null | undefined, max = 3): string[] {
  return (errors ?? []).slice(0, max).map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`);
}

async function rowsSatisfyCheck(spec: CheckSpec, ctx: KindContext): Promise<KindResult> {
  const rs = spec.rows_satisfy as { sql: string; contract: string; key?: string; column?: string };
  const contract = ctx.contracts.get(rs.contract);
  if (!contract.ok) throw new CheckConfigError(`contract '${rs.contract}' ${contract.reason === 'missing' ? `not found: expected ${ctx.contracts.fileOf(rs.contract)}` : 'is broken (run rollout validate)'}.`);
  const result = await runReadOnly<Record<string, unknown>>(await ctx.connection(), { text: rs.sql }, ctx.timeoutMs);
  if (rs.column !== undefined && result.rows.length > 0 && !result.fields.includes(rs.column)) {
    throw new CheckConfigError(`rows_satisfy.column '${rs.column}' is not a column of the query (it returns ${result.fields.join(', ')}).`);
  }
  const violations: NonNullable<CheckResult['violations']> = [];
  let broken = 0;
  result.rows.forEach((row, index) => {
    const value = rs.column !== undefined ? row[rs.column] : row;
    if (contract.validate(typeof value === 'string' && rs.column !== undefined ? parseMaybeJson(value) : value)) return;
    broken += 1;
    if (violations.length < ctx.maxViolations) {
      violations.push({ key: (rs.key !== undefined ? (row[rs.key] as JsonValue) : `row ${index + 1}`) ?? null, errors: contractErrors(contract.validate.errors) });
    }
  });
  const slow = overBudget(spec, result.durationMs);
  if (broken > 0) {
    const first = violations.map((v) => `${show(v.key, 60)}: ${v.errors.join(', ')}`).join('; ');
    return {
      kind: 'rows_satisfy',
      status: 'fail',
      detail: `${broken} of ${result.rows.length} row(s) break contract '${contract.name}'; first: ${first}`,
      expected: `every row satisfies ${contract.file}`,
      actual: `${broken} violation(s)`,
      query: rs.sql,
      violations,
    };
  }
  if (slow) return { kind: 'rows_satisfy', status: 'fail', detail: slow, query: rs.sql };
  return { kind: 'rows_satisfy', status: 'pass', detail: `all ${result.rows.length} row(s) satisfy ${contract.name}`, actual: `${result.rows.length} row(s)`, query: rs.sql };
}

/** A text column holding a JSON object or array is read as JSON; any other text stays a string. */
function parseMaybeJson(text: string): unknown {
  if (!/^\s*[[{]/.test(text)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
