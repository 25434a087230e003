/**
 * The fleet fan-out as GitHub runs rollout-fleet.yml: the planning job's matrix output drives
 * one process of the bundled fleet entry per shard (with the inputs and env the workflow's
 * steps give, its expressions evaluated against matrix, inputs, needs and secrets), the shards'
 * reports travel as artifacts to the aggregating job, and its report matches what each
 * target's own ledger says. Runs on the TEST_DATABASE_URL server, with 12 target databases.
 */
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerHead } from '../../actions/engine/store/ledger-chain.ts';
import { serverFleet, URL_TEMPLATE, writeRepository, type TestFleet } from '../fleet/support.ts';
import { ROOT, runEntry, type EntryRun } from './support.ts';
import { parseWorkflow } from './workflow-rules.ts';

const SERVER = process.env.TEST_DATABASE_URL;
const workflow = parseWorkflow(readFileSync(join(ROOT, '.github/workflows/rollout-fleet.yml'), 'utf8'));
type Context = Record<string, unknown>;

/** The few expressions the workflow uses: context paths (dashes allowed), toJSON(secrets), == 'x'. */
function evaluate(expression: string, context: Context): unknown {
  const text = expression.trim();
  if (text === 'toJSON(secrets)') return JSON.stringify(context.secrets);
  const equals = /^(.+?)\s*==\s*'([^']*)'$/.exec(text);
  if (equals) return String(evaluate(equals[1], context)) === equals[2];
  return text.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Context)[key] : undefined), context);
}
const substitute = (value: unknown, context: Context): string =>
  String(value).replace(/\$\{\{([^}]*)\}\}/g, (_, e: string) => {
    const result = evaluate(e, context);
    return result === undefined || result === null ? '' : typeof result === 'string' ? result : JSON.stringify(result);
  });
const fleetStep = (job: string) => workflow.jobs[job].steps!.find((s) => s.uses === './.rollout-action/actions/fleet')!;

describe.skipIf(!SERVER)('rollout-fleet.yml fanned out as GitHub runs it', () => {
  let fleet: TestFleet;
  let artifacts: string;
  const inputs = { environment: 'tenants', root: '.', 'max-parallel': 2, 'max-shards': 256, 'targets-per-shard': 4, concurrency: 2 };

  /** One step of a job: its with: and env: evaluated, the entry run as a process. */
  const step = (job: string, context: Context, env: Record<string, string> = {}): Promise<EntryRun> => {
    const s = fleetStep(job);
    const withs = Object.fromEntries(Object.entries(s.with ?? {}).map(([k, v]) => [k, substitute(v, context)]));
    const envs = Object.fromEntries(Object.entries(s.env ?? {}).map(([k, v]) => [k, substitute(v, context)]));
    return runEntry('fleet', { workspace: fleet.root, inputs: withs, env: { ...envs, ...env } });
  };

  /** One run of the workflow: plan, the matrix's shard jobs (max-parallel at a time), then the report. */
  async function runWorkflow(): Promise<{ plan: EntryRun; shards: EntryRun[]; report?: EntryRun }> {
    const secrets = { ...fleet.processEnv, GITHUB_TOKEN: 'ghs_testtoken000000000000000000000000000' };
    const plan = await step('plan', { inputs, secrets });
    expect(plan.code, plan.stdout).toBe(0);
    const needs = { plan: { outputs: plan.outputs } };
    if (!evaluate(workflow.jobs.apply.if!, { needs })) return { plan, shards: [] };
    const matrix = JSON.parse(plan.outputs.matrix) as { include: Array<Record<string, unknown>> };
    const shards: EntryRun[] = [];
    await rm(artifacts, { recursive: true, force: true });
    for (let i = 0; i < matrix.include.length; i += inputs['max-parallel']) {
      const batch = matrix.include.slice(i, i + inputs['max-parallel']).map(async (entry, j) => {
        const index = i + j;
        const temp = await mkdtemp(join(tmpdir(), 'rollout-runner-temp-'));
        const run = await step('apply', { inputs, secrets, matrix: entry, strategy: { 'job-index': index } }, { RUNNER_TEMP: temp });
        // upload-artifact, then download-artifact with a pattern: one folder per artifact.
        if (run.outputs['report-path']) {
          await mkdir(join(artifacts, `fleet-report-${index}`), { recursive: true });
          await cp(run.outputs['report-path'], join(artifacts, `fleet-report-${index}`, 'rollout-fleet-report.json'));
        }
        await rm(temp, { recursive: true, force: true });
        return run;
      });
      shards.push(...(await Promise.all(batch)));
    }
    await mkdir(artifacts, { recursive: true });
    await cp(artifacts, join(fleet.root, 'fleet-reports'), { recursive: true });
    const report = await step('report', { inputs, secrets, needs });
    await rm(join(fleet.root, 'fleet-reports'), { recursive: true, force: true });
    return { plan, shards, report };
  }

  beforeAll(async () => {
    fleet = await serverFleet(SERVER!, 12);
    artifacts = await mkdtemp(join(tmpdir(), 'rollout-artifacts-'));
    await writeRepository(fleet.root, {
      'environments/tenants.yaml': `version: 1
target_url_env: ${URL_TEMPLATE}
targets:
${fleet.names.map((n) => `  - { name: ${n} }`).join('\n')}
waves:
  - { name: canary, targets: [t01] }
  - { name: everyone, max_failures: 1 }
flags:
  feature.x: { value: { on: true } }
checks:
  - name: no poisoned rows
    sql: SELECT count(*)::int FROM public.poison
    expect: { value: 0 }
`,
      'migrations/001_poison.sql': 'CREATE TABLE IF NOT EXISTS public.poison (id bigint PRIMARY KEY);\n',
    });
    await fleet.query('t07', 'CREATE TABLE public.poison (id bigint PRIMARY KEY); INSERT INTO public.poison VALUES (1)');
  }, 120_000);
  afterAll(async () => {
    await fleet?.dispose();
    await rm(artifacts, { recursive: true, force: true });
  }, 120_000);

  it('one wave per run: the canary, then the rest in shards, and a report that matches every target\'s ledger', async () => {
    const first = await runWorkflow();
    expect(first.plan.outputs).toMatchObject({ ready: 'true', wave: 'canary' });
    expect(JSON.parse(first.plan.outputs.matrix)).toEqual({ include: [{ wave: 'canary', shard: '1/1', targets: 1, plan_hash: expect.stringMatching(/^[0-9a-f]{64}$/) as string }] });
    expect(first.shards.map((s) => s.code)).toEqual([0]);
    expect(first.report?.outputs.next).toBe('continue');

    const second = await runWorkflow();
    expect(second.plan.outputs.wave).toBe('everyone');
    const include = (JSON.parse(second.plan.outputs.matrix) as { include: Array<{ shard: string; targets: number }> }).include;
    expect(include.map((e) => [e.shard, e.targets])).toEqual([['1/3', 4], ['2/3', 4], ['3/3', 3]]);
    // A shard with a failed target within the wave's budget does not fail its job; the report weighs it.
    expect(second.shards.map((s) => s.code)).toEqual([0, 0, 0]);
    expect(second.shards.map((s) => s.outputs.failed).sort()).toEqual(['0', '0', '1']);
    const report = second.report!;
    expect(report.code, report.stdout).toBe(0);
    expect(report.outputs.next).toBe('done');
    expect(report.summary).toContain('tenants (wave everyone): done with failures within budget. 10 applied, 0 unchanged, 1 failed checks (flags reverted).');
    expect(report.summary).toContain('| `t07` | everyone | reverted');
    // No URL or password of any target reached the summary or the log.
    for (const url of Object.values(fleet.processEnv)) {
      expect(report.summary + report.stdout + second.shards.map((s) => s.stdout).join('')).not.toContain(new URL(url!).pathname.slice(1));
    }

    // Every target's row of the aggregated report is what its own ledger says.
    const rows = new Map([...report.summary.matchAll(/^\| `(t\d\d)` \| (\w+) \| (\w+) \| (\d+) \| (\d+) \| (?:#(\d+) `([0-9a-f]{12})`)? \|$/gm)].map((m) => [m[1], m]));
    expect([...rows.keys()].sort()).toEqual(fleet.names.slice(1));
    for (const target of fleet.names.slice(1)) {
      const client = new pg.Client({ connectionString: fleet.processEnv[`TENANT_${target.toUpperCase()}_URL`] });
      await client.connect();
      try {
        const head = await ledgerHead(client, 'tenants');
        const row = rows.get(target)!;
        expect([row[6], row[7]], target).toEqual([String(head!.id), head!.hash.slice(0, 12)]);
        const kinds = (await client.query<{ kind: string }>('SELECT kind FROM rollout.ledger ORDER BY id')).rows.map((r) => r.kind);
        expect(kinds).toEqual(target === 't07' ? ['apply', 'revert'] : ['apply']);
      } finally {
        await client.end();
      }
    }
  }, 300_000);

  it('a run after the fix resumes with the one target left, and the next finds nothing to do', async () => {
    await fleet.query('t07', 'DELETE FROM public.poison');
    const third = await runWorkflow();
    expect(third.plan.outputs.wave).toBe('everyone');
    expect((JSON.parse(third.plan.outputs.matrix) as { include: unknown[] }).include).toHaveLength(3);
    expect(third.report?.summary).toContain('every target at the desired state. 1 applied, 10 unchanged.');
    const fourth = await runWorkflow();
    expect(fourth.plan.outputs).toMatchObject({ ready: 'false', wave: '' });
    expect(fourth.shards).toEqual([]);
  }, 300_000);
});
