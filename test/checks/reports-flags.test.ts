/**
 * http.reports_flags: a body that reports flags (seed 002's /health kill_switches) is compared
 * with a plain read of each flag. Pure cases first, then what `rollout validate` says about a
 * pointer that names no flag.
 */
import { describe, expect, it } from 'vitest';
import { atPointer, reportedFlagMismatches } from '../../actions/engine/checks/index.ts';
import type { JsonValue } from '../../actions/engine/config/model.ts';
import { cli } from '../support/cli.ts';
import { temporaryRepositories } from '../support/repository.ts';

describe('reportedFlagMismatches compares a body with the live flags', () => {
  const flags = new Map<string, JsonValue>([
    ['phase6_metrics', { enabled: false }],
    ['consolidated_metrics', { enabled: true }],
    ['ranker.policy', { version: 'epsilon_greedy_v1', epsilon: 0 }],
  ]);
  const body = { kill_switches: { phase6_metrics: false, consolidated_metrics: true }, policy: { version: 'epsilon_greedy_v1', epsilon: 0 } };

  it('passes a body that reports every flag as a plain read returns it', () => {
    expect(reportedFlagMismatches(body, { '/kill_switches/phase6_metrics': 'phase6_metrics', '/kill_switches/consolidated_metrics': 'consolidated_metrics', '/policy': 'ranker.policy' }, flags)).toEqual([]);
  });

  it('a boolean is compared with whether the flag is on; anything else with its value', () => {
    expect(reportedFlagMismatches({ on: true, off: false, policy: { version: 'epsilon_greedy_v1', epsilon: 0.08 } }, { '/on': 'phase6_metrics', '/off': 'consolidated_metrics', '/policy': 'ranker.policy' }, flags)).toEqual([
      '/on is true, but flag phase6_metrics is off (live value {"enabled":false})',
      '/off is false, but flag consolidated_metrics is on (live value {"enabled":true})',
      `/policy is {"version":"epsilon_greedy_v1","epsilon":0.08}, but flag ranker.policy's live value is {"version":"epsilon_greedy_v1","epsilon":0}`,
    ]);
    // A string "false" is no boolean: it is compared with the value, and differs.
    expect(reportedFlagMismatches({ s: 'false' }, { '/s': 'phase6_metrics' }, flags)).toHaveLength(1);
  });

  it('fails a report that is missing, and a flag that is not live', () => {
    expect(reportedFlagMismatches(body, { '/kill_switches/checkout': 'phase6_metrics', '/kill_switches/phase6_metrics': 'checkout.v2' }, flags)).toEqual([
      '/kill_switches/checkout is missing from the body; it should report flag phase6_metrics (live value {"enabled":false})',
      'the body reports flag checkout.v2 at /kill_switches/phase6_metrics, but checkout.v2 is not live in this environment',
    ]);
  });

  it('reads RFC 6901 pointers: ~1 is /, ~0 is ~, array indexes', () => {
    const doc = { 'a/b': { 'c~d': [false, { x: 1 }] } };
    expect(atPointer(doc, '/a~1b/c~0d/1/x')).toEqual({ found: true, value: 1 });
    expect(atPointer(doc, '/a~1b/c~0d/0')).toEqual({ found: true, value: false });
    expect(atPointer(doc, '/a~1b/c~0d/2')).toEqual({ found: false });
    expect(atPointer(doc, '/a~1b/c~0d/01')).toEqual({ found: false });
    expect(atPointer({ a: null }, '/a/b')).toEqual({ found: false });
  });
});

const repo = temporaryRepositories('rollout-reports-flags-');

it('validate refuses a reports_flags entry that names no flag, and a pointer that is not one, each at its position', async () => {
  const root = repo({
    'environments/staging.yaml': `version: 1
database:
  embedded: .rollout/db
flags:
  phase6_metrics:
    value: { enabled: true }
    off_value: { enabled: false }
    rollout: { stage: off }
checks:
  - name: health
    http:
      url: http://127.0.0.1:1/health
      reports_flags:
        /kill_switches/phase6_metrics: phase6_metric
  - name: not a pointer
    http:
      url: http://127.0.0.1:1/health
      reports_flags:
        kill_switches: phase6_metrics
`,
  });
  const run = await cli(['--root', root, 'validate']);
  expect(run.code).toBe(1);
  const lines = run.stdout.split('\n').filter((l) => /^\S+:\d+:\d+: (error|warning):/.test(l));
  expect(lines).toEqual([
    expect.stringMatching(/^environments\/staging\.yaml:14:\d+: error: check 'health' compares \/kill_switches\/phase6_metrics with flag 'phase6_metric', but there is no such flag in this environment, so the check would fail on every run.*phase6_metrics/),
    expect.stringMatching(/^environments\/staging\.yaml:19:9: error: Invalid key "kill_switches" in checks\[1\]\.http\.reports_flags\. Expected a JSON pointer into the body, such as "\/kill_switches"\.$/),
  ]);
});
