/**
 * Seed 001 (Day-0 cutover) walked with the real CLI: migrations and flags applied,
 * ranker.policy through internal → 5% → 25% → 100% with its soaks (1 d, 2 d, 3 d),
 * and the safe-mode abort switch flipped mid-canary, which no gate may block.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Position } from '../../actions/engine/stages/ladder.ts';
import { databaseTargets } from '../support/databases.ts';
import { recordHealthy, SEED_001_CRITERIA } from './measurements.ts';
import { readServing, servedValueInSql, unitIds } from './serving.ts';
import { days, exampleRepo, later, setRollout, setValue, type ExampleRepo } from './support.ts';

const HOUR = 3_600_000;
const POLICY = 'ranker.policy';
/** Phase 2 "disable safe mode for 5% of users": inside the rollout ε = 0.08, everyone else the safe-mode policy, ε = 0 (pure exploit). */
const VALUE = { version: 'epsilon_greedy_v1', epsilon: 0.08 };
const OFF_VALUE = { version: 'epsilon_greedy_v1', epsilon: 0 };
/** A staff member doing Phase 1's internal testing (rollout.yaml's `internal` segment), and an ordinary user. */
const STAFF = { targetingKey: 'staff-7', role: 'staff' };
const USER = { targetingKey: 'user-42', role: 'member' };
const USERS = unitIds(10_000);

describe.each(databaseTargets())('examples/seed-001-day0-cutover on $name', (target) => {
  let repo: ExampleRepo;
  beforeEach(async () => {
    repo = await exampleRepo('seed-001-day0-cutover', target);
  });
  afterEach(() => repo.dispose());

  const move = (rollout: Position) => repo.edit('staging', (text) => setRollout(text, 'ranker.policy', rollout));
  const stageOf = async (key: string) =>
    (await repo.query<{ stage: string; percent: string | null }>('staging', 'SELECT stage, percent::text AS percent FROM rollout.flag_rollouts WHERE key = $1', [key]))[0];

  const measuredHealthy = (hours: number) => recordHealthy(repo, 'staging', POLICY, SEED_001_CRITERIA, hours);

  /** After an apply: what the staff member and the user get, which of 10,000 users get ε = 0.08, and what a plain read of the value table says. */
  const served = async () => {
    const serving = await readServing(repo, 'staging');
    const on = serving.servedValue(POLICY, USERS, { role: 'member' });
    // rollout.evaluate, the SQL reader, buckets the same users (the first 2,000, to keep the walk quick) and lets staff in.
    const sample = USERS.slice(0, 2_000);
    expect(await servedValueInSql(repo, 'staging', POLICY, sample, { role: 'member' })).toEqual(on.filter((unit) => sample.includes(unit)));
    expect(await servedValueInSql(repo, 'staging', POLICY, [STAFF.targetingKey], { role: 'staff' })).toEqual(serving.see(POLICY, STAFF).variant === 'on' ? [STAFF.targetingKey] : []);
    return { staff: serving.see(POLICY, STAFF), user: serving.see(POLICY, USER), on, plain: serving.plain(POLICY) };
  };

  it('walks the canary phases with their soaks, and the safe-mode abort is never refused', { timeout: 300_000 }, async () => {
    const first = await repo.run(['apply', '--env', 'staging']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('migrated migrations/0002_core_tables.sql');
    expect(await stageOf('ranker.policy')).toEqual({ stage: 'off', percent: null });
    // Phase 1 "100% safe mode enabled": everyone, staff included, gets the exploit-only policy.
    let seen = await served();
    expect(seen).toMatchObject({ staff: { value: OFF_VALUE, reason: 'DISABLED' }, user: { value: OFF_VALUE }, on: [], plain: OFF_VALUE });

    // Phase 1: internal (dark). off needs no soak. Only the internal segment (staff) gets the rollout.
    await move({ stage: 'dark' });
    expect((await repo.run(['apply', '--env', 'staging'])).code).toBe(0);
    seen = await served();
    expect(seen.staff).toEqual({ value: VALUE, variant: 'on', reason: 'TARGETING_MATCH', segment: 'internal' });
    expect(seen.user).toEqual({ value: OFF_VALUE, variant: 'off', reason: 'DEFAULT' });
    expect(seen.on).toEqual([]);
    expect(seen.plain).toEqual(OFF_VALUE);

    // Phase 2: 5%, refused until internal testing has soaked a day.
    await move({ stage: 'canary', percent: 5 });
    const early = await repo.run(['plan', '--env', 'staging']);
    expect(early.code).toBe(1);
    expect(early.stdout).toMatch(/✗ ranker\.policy has been at dark in staging since \S+: .+ of 24 h soaked; .* to go before the next step\./);
    const refused = await repo.run(['apply', '--env', 'staging']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('1 stage move(s) refused by their gates; nothing was applied');
    expect(await stageOf('ranker.policy')).toEqual({ stage: 'dark', percent: null });
    // "Verify SLOs are green": a day of internal testing is not enough without the hourly measurements.
    const unmeasured = await repo.run(['plan', '--env', 'staging'], { now: later(days(1) + HOUR) });
    expect(unmeasured.code).toBe(1);
    expect(unmeasured.stdout).toContain("no measurements of '5xx error rate' since dark began");
    await measuredHealthy(26);
    expect((await repo.run(['apply', '--env', 'staging'], { now: later(days(1) + HOUR) })).code).toBe(0);
    expect(await stageOf('ranker.policy')).toEqual({ stage: 'canary', percent: '5' });
    // Phase 2: 5 % of users (± 0.5 % of 10,000), staff whatever their bucket; the value table still says safe mode.
    seen = await served();
    expect(seen.on.length / USERS.length).toBeGreaterThanOrEqual(0.045);
    expect(seen.on.length / USERS.length).toBeLessThanOrEqual(0.055);
    expect(seen.staff).toMatchObject({ value: VALUE, segment: 'internal' });
    expect(seen.plain).toEqual(OFF_VALUE);
    const atFive = seen.on;

    // Skipping 25% is refused whatever the clock says.
    await move({ stage: 'full' });
    const skip = await repo.run(['plan', '--env', 'staging'], { now: later(days(30)) });
    expect(skip.code).toBe(1);
    expect(skip.stdout).toContain('canary 5% → full skips canary 25%; go one step at a time');

    // Phase 3: 25%, after 2 days at 5%.
    await move({ stage: 'canary', percent: 25 });
    const tooSoon = await repo.run(['apply', '--env', 'staging'], { now: later(days(1)) });
    expect(tooSoon.code).toBe(1);
    expect(tooSoon.stderr).toMatch(/of 2 d soaked/);
    await measuredHealthy(50);
    expect((await repo.run(['apply', '--env', 'staging'], { now: later(days(2) + HOUR) })).code).toBe(0);
    // 25 % (± 0.5 %), and every user who had it at 5 % keeps it: raising the percent only adds users.
    seen = await served();
    expect(seen.on.length / USERS.length).toBeGreaterThanOrEqual(0.245);
    expect(seen.on.length / USERS.length).toBeLessThanOrEqual(0.255);
    expect(atFive.filter((unit) => !seen.on.includes(unit))).toEqual([]);
    expect(seen.plain).toEqual(OFF_VALUE);

    // Abort switch mid-canary: safe mode on and off again, at once, whatever the soaks say.
    await repo.edit('staging', (text) => setValue(text, 'global.safe_mode', { enabled: true }));
    const abort = await repo.run(['apply', '--env', 'staging']);
    expect(abort.code).toBe(0);
    expect(abort.stdout).toContain('change global.safe_mode');
    const [safe] = await repo.query<{ value: unknown }>('staging', "SELECT value FROM public.feature_flags WHERE key = 'global.safe_mode'");
    expect(safe.value).toEqual({ enabled: true });
    await repo.edit('staging', (text) => setValue(text, 'global.safe_mode', { enabled: false }));
    expect((await repo.run(['apply', '--env', 'staging'])).code).toBe(0);
    const [restored] = await repo.query<{ value: unknown }>('staging', "SELECT value FROM public.feature_flags WHERE key = 'global.safe_mode'");
    expect(restored.value).toEqual({ enabled: false });

    // Phase 4: 100% (full) after 3 days at 25%.
    await move({ stage: 'full' });
    const notYet = await repo.run(['apply', '--env', 'staging'], { now: later(days(2)) });
    expect(notYet.code).toBe(1);
    expect(notYet.stderr).toMatch(/of 3 d soaked/);
    await measuredHealthy(74);
    expect((await repo.run(['apply', '--env', 'staging'], { now: later(days(3) + HOUR) })).code).toBe(0);
    expect(await stageOf('ranker.policy')).toEqual({ stage: 'full', percent: null });
    seen = await served();
    expect(seen.on).toHaveLength(USERS.length);
    expect(seen.user).toMatchObject({ value: VALUE, reason: 'STATIC' });
    expect(seen.plain).toEqual(VALUE);

    // A rollback from full straight to off is never refused.
    await move({ stage: 'off' });
    expect((await repo.run(['apply', '--env', 'staging'])).code).toBe(0);
    expect(await stageOf('ranker.policy')).toEqual({ stage: 'off', percent: null });
    seen = await served();
    expect(seen).toMatchObject({ staff: { value: OFF_VALUE }, on: [], plain: OFF_VALUE });
  });
  it('a 5xx breach at canary 5 % rolls ranker.policy back to internal by itself, trips safe mode, and dispatches "rollback deployment"', { timeout: 300_000 }, async () => {
    // GitHub's repository_dispatch endpoint, on loopback: the team's own workflows answer these events.
    const dispatched: { event_type: string; client_payload: { monitor: string; rolledBack: string[] } }[] = [];
    const github = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        if (request.method === 'POST' && request.url === '/repos/acme/app/dispatches') dispatched.push(JSON.parse(body) as (typeof dispatched)[number]);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => github.listen(0, '127.0.0.1', resolve));
    try {
      expect((await repo.run(['apply', '--env', 'staging'])).code).toBe(0);
      await move({ stage: 'dark' });
      expect((await repo.run(['apply', '--env', 'staging'])).code).toBe(0);
      await measuredHealthy(26);
      await move({ stage: 'canary', percent: 5 });
      expect((await repo.run(['apply', '--env', 'staging'], { now: later(days(1) + HOUR) })).code).toBe(0);
      expect((await served()).on.length).toBeGreaterThan(0);

      // "5xx error rate > 1% → Rollback deployment": 3 of 200 requests fail (which also burns the SLO).
      await repo.query('staging', "INSERT INTO public.request_log (path, status, latency_ms) SELECT 'feed', CASE WHEN g <= 3 THEN 500 ELSE 200 END, 40 FROM generate_series(1, 200) g");
      const env = { GITHUB_API_URL: `http://127.0.0.1:${(github.address() as AddressInfo).port}`, GITHUB_REPOSITORY: 'acme/app', GITHUB_TOKEN: 'test-token-not-secret' };
      const health = await repo.run(['health', '--env', 'staging', '--format', 'json'], { env });
      expect(health.code).toBe(1);
      const report = JSON.parse(health.stdout) as { results: { name: string; status: string; actions?: { kind: string; outcome?: string }[] }[] };
      const errors = report.results.find((r) => r.name === '5xx error rate');
      expect(errors?.status).toBe('breach');
      expect(errors?.actions).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'dispatch', outcome: 'sent' })]));
      expect(report.results.find((r) => r.name === 'SLO burn rate')?.actions).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'kill_switch', outcome: 'tripped' })]));

      // Back at internal: users outside staff are in safe mode's policy again, staff keep testing.
      expect(await stageOf('ranker.policy')).toEqual({ stage: 'dark', percent: null });
      const seen = await served();
      expect(seen.on).toEqual([]);
      expect(seen.staff).toMatchObject({ value: VALUE, segment: 'internal' });
      expect(seen.plain).toEqual(OFF_VALUE);
      const [entry] = await repo.query<{ reason: string }>('staging', "SELECT reason FROM rollout.ledger WHERE kind = 'auto-rollback'");
      expect(entry.reason).toContain('exit criteria breached');
      expect(dispatched.map((d) => [d.event_type, d.client_payload.monitor])).toContainEqual(['rollback-deployment', '5xx error rate']);
    } finally {
      await new Promise((resolve) => github.close(resolve));
    }
  });

  it('a 5xx breach at canary 25 % moves ranker.policy back one rung, to 5 %, by itself: the users of 5 % keep the rollout, the others lose it', { timeout: 300_000 }, async () => {
    expect((await repo.run(['apply', '--env', 'staging'])).code).toBe(0);
    await move({ stage: 'dark' });
    expect((await repo.run(['apply', '--env', 'staging'])).code).toBe(0);
    await measuredHealthy(26);
    await move({ stage: 'canary', percent: 5 });
    expect((await repo.run(['apply', '--env', 'staging'], { now: later(days(1) + HOUR) })).code).toBe(0);
    const atFive = (await served()).on;
    await measuredHealthy(50);
    await move({ stage: 'canary', percent: 25 });
    expect((await repo.run(['apply', '--env', 'staging'], { now: later(days(2) + HOUR) })).code).toBe(0);
    expect(await stageOf(POLICY)).toEqual({ stage: 'canary', percent: '25' });
    expect((await served()).on.length).toBeGreaterThan(atFive.length);

    // "5xx error rate > 1%": 3 of 200 requests fail, measured by the scheduled health run.
    await repo.query('staging', "INSERT INTO public.request_log (path, status, latency_ms) SELECT 'feed', CASE WHEN g <= 3 THEN 500 ELSE 200 END, 40 FROM generate_series(1, 200) g");
    const health = await repo.run(['health', '--env', 'staging', '--format', 'json']);
    expect(health.code).toBe(1);
    const report = JSON.parse(health.stdout) as { results: { name: string; status: string; actions?: { kind: string; flag?: string; outcome?: string }[] }[] };
    expect(report.results.find((r) => r.name === '5xx error rate')?.actions).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'stage_rollback', flag: POLICY, outcome: 'rolled back' })]),
    );
    expect(await stageOf(POLICY)).toEqual({ stage: 'canary', percent: '5' });
    // Exactly the users of the 5 % step again: bucketing is by unit, so the rollback takes back only what 25 % added.
    const seen = await served();
    expect(seen.on).toEqual(atFive);
    expect(seen.staff).toMatchObject({ value: VALUE, segment: 'internal' });
    expect(seen.plain).toEqual(OFF_VALUE);
    const [entry] = await repo.query<{ reason: string }>('staging', "SELECT reason FROM rollout.ledger WHERE kind = 'auto-rollback'");
    expect(entry.reason).toContain('exit criteria breached');
  });

  it('§7 Daily Checks: rollout health measures the health curl, queue health and policy health, and records each result; a failing or silent health endpoint is a recorded breach', { timeout: 300_000 }, async () => {
    const apply = await repo.run(['apply', '--env', 'staging']);
    expect(apply.code, apply.stderr).toBe(0);
    const DAILY = ['edge functions health', 'discovery queue p95 age', 'exploration rate vs epsilon'];
    type Report = { results: { name: string; kind: string; status: string; value?: number; detail: string }[] };
    const health = async (env: NodeJS.ProcessEnv = {}) => {
      const run = await repo.run(['health', '--env', 'staging', '--format', 'json'], { env });
      expect(run.stderr).toBe('');
      const report = JSON.parse(run.stdout) as Report;
      return (name: string) => report.results.find((r) => r.name === name);
    };
    const recorded = () =>
      repo.query<{ monitor: string; verdict: string; value: number | null }>(
        'staging',
        'SELECT monitor, verdict, value::float AS value FROM rollout.measurements WHERE monitor = ANY($1) ORDER BY id',
        [DAILY],
      );

    // The edge functions answer, with a body that satisfies edge-health: healthy, and its HTTP status is the measurement.
    const first = await health();
    expect(first('edge functions health')).toMatchObject({ kind: 'http', status: 'healthy', value: 200 });
    expect(first('edge functions health')?.detail).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/functions\/v1\/health: HTTP 200, body satisfies edge-health$/);
    // Queue and policy health, in the same run: judged from the seeded queue and the (still empty) policy view, and recorded like the health curl.
    const asRecorded = (name: string) => ({ monitor: name, verdict: first(name)?.status, value: first(name)?.value ?? null });
    expect(first('discovery queue p95 age')?.status).toBe('healthy');
    expect(await recorded()).toEqual([asRecorded('discovery queue p95 age'), asRecorded('exploration rate vs epsilon'), asRecorded('edge functions health')]);

    // The function answers 500: a breach, recorded with its status.
    repo.standIn!.faults.set('/functions/v1/health', 500);
    try {
      const failing = await health();
      expect(failing('edge functions health')).toMatchObject({ status: 'breach', value: 500 });
      expect(failing('edge functions health')?.detail).toContain('expected HTTP 2xx, got HTTP 500');
    } finally {
      repo.standIn!.faults.delete('/functions/v1/health');
    }
    // Nothing listens: no answer at all is a breach too, without a status.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const silent = await health({ SUPABASE_URL: `http://127.0.0.1:${port}` });
    expect(silent('edge functions health')).toMatchObject({ status: 'breach' });
    expect(silent('edge functions health')?.detail).toContain('no answer (request failed: ECONNREFUSED)');
    expect(silent('edge functions health')?.value).toBeUndefined();
    // Where the URL is not configured nothing was measured: unknown, never healthy.
    const unconfigured = await health({ SUPABASE_URL: undefined });
    expect(unconfigured('edge functions health')).toMatchObject({ status: 'unknown' });
    expect(unconfigured('edge functions health')?.detail).toContain('environment variable SUPABASE_URL is not set');

    const edge = (await recorded()).filter((r) => r.monitor === 'edge functions health');
    expect(edge).toEqual([
      { monitor: 'edge functions health', verdict: 'healthy', value: 200 },
      { monitor: 'edge functions health', verdict: 'breach', value: 500 },
      { monitor: 'edge functions health', verdict: 'breach', value: null },
      { monitor: 'edge functions health', verdict: 'unknown', value: null },
    ]);
    // Four health runs, four results each for the queue and policy reads too.
    expect((await recorded()).filter((r) => r.monitor !== 'edge functions health')).toHaveLength(8);
  });
});
