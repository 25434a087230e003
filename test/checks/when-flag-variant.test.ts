/**
 * when_flag's `variant: on | off`: decided by what every unit is served (the serving rule),
 * not by the value table, which holds the off value below full. Pure cases first, then what
 * `rollout validate` says about a condition that could never hold or is ambiguous.
 */
import { describe, expect, it } from 'vitest';
import type { FlagDefinition } from '../../packages/provider/src/definition.ts';
import { conditionHolds, servedToEveryone } from '../../actions/engine/checks/index.ts';
import { cli } from '../support/cli.ts';
import { temporaryRepositories } from '../support/repository.ts';

const SCORING = { version: 'fixed-weight-v1', total: 0.72 };
const NO_SCORING = { version: 'none', total: 0 };

function definition(over: Partial<FlagDefinition>): FlagDefinition {
  return { key: 'scoring', value: SCORING, offValue: NO_SCORING, stage: 'off', percent: 0, segments: [{ name: 'internal', keys: ['alice'] }], killSwitch: false, ledgerId: 1, ...over };
}

describe('variant: on | off follows the serving rule', () => {
  const cases: [string, Partial<FlagDefinition>, 'on' | 'off' | 'other' | undefined][] = [
    ['off', { stage: 'off' }, 'off'],
    ['shadow (the value rides along, never served)', { stage: 'shadow' }, 'off'],
    ['dark (the segment only)', { stage: 'dark' }, undefined],
    ['canary 100 % (units without a targeting key still get the off value)', { stage: 'canary', percent: 100 }, undefined],
    ['full', { stage: 'full' }, 'on'],
    ['a plain flag', { stage: null, offValue: SCORING }, 'on'],
    ['break-glass at the off value, whatever the stage', { stage: 'canary', percent: 25, override: NO_SCORING }, 'off'],
    ['break-glass at the value', { stage: 'off', override: SCORING }, 'on'],
    ['break-glass at a third value', { stage: 'full', override: { version: 'frozen', total: 0 } }, 'other'],
    ['a plain kill switch tripped away from its value', { stage: null, value: { enabled: false }, offValue: { enabled: false }, override: { enabled: true }, killSwitch: true }, 'other'],
  ];
  it.each(cases)('%s', (_name, over, expected) => {
    const d = definition(over);
    expect(servedToEveryone(d)).toBe(expected);
    // The value table holds an object at every stage here: by value, the check would run at all of them.
    const live = { values: new Map([['scoring', NO_SCORING]]), definitions: new Map([['scoring', d]]) };
    expect(conditionHolds({ key: 'scoring' }, live)).toBe(true);
    expect(conditionHolds({ key: 'scoring', variant: 'on' }, live)).toBe(expected === 'on');
    expect(conditionHolds({ key: 'scoring', variant: 'off' }, live)).toBe(expected === 'off');
  });

  it('never holds for a flag that is not live, or without the definitions', () => {
    expect(conditionHolds({ key: 'scoring', variant: 'off' }, { values: new Map(), definitions: new Map() })).toBe(false);
    expect(conditionHolds({ key: 'scoring', variant: 'off' }, { values: new Map([['scoring', NO_SCORING]]) })).toBe(false);
  });
});

const repo = temporaryRepositories('rollout-when-flag-variant-');

const ENV = `version: 1
database:
  embedded: .rollout/db
flags:
  plans.scoring:
    value: { version: fixed-weight-v1 }
    off_value: { version: none }
    rollout: { stage: off }
  shop.safe_mode:
    value: { enabled: false }
    kill_switch: true
checks:
  - name: both
    sql: SELECT 1
    expect: { value: 1 }
    when_flag: { key: plans.scoring, variant: on, equals: { version: none } }
  - name: plain off
    sql: SELECT 1
    expect: { value: 1 }
    when_flag: { key: shop.safe_mode, variant: off }
  - name: bad variant
    sql: SELECT 1
    expect: { value: 1 }
    when_flag: { key: plans.scoring, variant: enabled }
  - name: fine
    sql: SELECT 1
    expect: { value: 1 }
    when_flag: { key: plans.scoring, variant: off }
`;

it('validate refuses variant with equals, variant: off on a flag without a rollout, and an unknown variant, each at its position', async () => {
  const root = repo({ 'environments/staging.yaml': ENV });
  const run = await cli(['--root', root, 'validate']);
  expect(run.code).toBe(1);
  const lines = run.stdout.split('\n').filter((l) => /^\S+:\d+:\d+: (error|warning):/.test(l));
  expect(lines).toEqual([
    expect.stringMatching(/^environments\/staging\.yaml:16:16: error: when_flag takes equals: .* or variant: .*, not both; keep one\.$/),
    expect.stringMatching(/^environments\/staging\.yaml:20:48: error: check 'plain off' runs only while flag 'shop\.safe_mode' serves its off value to every unit, but that flag has no rollout:.*use equals: for a kill switch's value\.$/),
    expect.stringMatching(/^environments\/staging\.yaml:24:47: error: checks\[2\]\.when_flag\.variant is "enabled", which is not one of: on, off/),
  ]);
  expect(run.stdout + run.stderr).not.toMatch(/^\s+at .*:\d+/m);
});
