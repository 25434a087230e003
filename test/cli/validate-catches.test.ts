/** Issue 13, defect 5: validate, offline, catches what used to fail only later (mid-incident, or on every verify). */
import { expect, it } from 'vitest';
import { temporaryRepositories } from '../support/repository.ts';
import { cli } from '../support/cli.ts';

const repo = temporaryRepositories('rollout-validate-catches-');

const ENV = `version: 1
database:
  embedded: .rollout/db
flags:
  shop.safe_mode:
    value: { enabled: false }
    kill_switch: true
  checkout.new_flow:
    value: { enabled: true }
    contract: toggle
checks:
  - name: orders readable
    sql: SELECT count(*) FROM orders
    when_flag: { key: checkout.new_flwo }
  - name: cleanup
    sql: DELETE FROM orders WHERE id < 0
  - name: typo
    sql: SELEC 1
monitors:
  - name: burn
    sql: SELECT 3.1
    above: 2
    on_breach: { kill_switch: checkout.new_flow }
  - name: queue age
    sql: SELECT 1
  - name: health page
    http:
      url: http://127.0.0.1:1/health
    above: 1
`;

it('catches a non-switch on_breach, a when_flag naming no flag, a monitor without a threshold, an HTTP monitor with a threshold, refused or broken SQL and a non-strict contract', async () => {
  const root = repo({
    'environments/production.yaml': ENV,
    'contracts/toggle.schema.json': '{\n  "type": "object",\n  "properties": { "enabled": { "type": "boolean" } },\n}\n',
  });
  const run = await cli(['--root', root, 'validate']);
  expect(run.code).toBe(1);
  const lines = run.stdout.split('\n').filter((l) => /^\S+:\d+:\d+: (error|warning):/.test(l));
  expect(lines).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^contracts\/toggle\.schema\.json:3:53: error: not strict JSON: .*\(a trailing comma: remove it\)/),
      expect.stringMatching(/^environments\/production\.yaml:14:23: error: check 'orders readable' runs only when flag 'checkout\.new_flwo' is on, but there is no such flag .*; did you mean 'checkout\.new_flow'\?/),
      expect.stringMatching(/^environments\/production\.yaml:16:10: error: the SQL of check 'cleanup' would be refused when it runs: DELETE is not allowed in a check/),
      expect.stringMatching(/^environments\/production\.yaml:18:10: error: the SQL of check 'typo' would be refused when it runs: syntax error/),
      expect.stringMatching(/^environments\/production\.yaml:23:31: error: monitor 'burn' trips 'checkout\.new_flow' on breach, but that flag is not a kill switch.*Kill switches in environments\/production\.yaml: shop\.safe_mode\./),
      expect.stringMatching(/^environments\/production\.yaml:24:5: error: monitor 'queue age' measures with sql but has no threshold/),
      expect.stringMatching(/^environments\/production\.yaml:29:\d+: error: monitor 'health page' measures an HTTP endpoint \(http:\), which is judged by its answer .*, so above would be ignored/),
    ]),
  );
  expect(run.stdout + run.stderr).not.toMatch(/^\s+at .*:\d+/m);
});
