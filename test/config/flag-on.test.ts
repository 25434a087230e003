/**
 * One meaning of "a flag is on", for a dependency's gate (planner isOn) and for when_flag
 * (conditionHolds): they used to disagree on {enabled: null}, which the gate counted as on.
 */
import { describe, expect, it } from 'vitest';
import { conditionHolds } from '../../actions/engine/checks/flag-condition.ts';
import { valueIsOn } from '../../actions/engine/config/flag-on.ts';
import type { FlagSpec, JsonValue } from '../../actions/engine/config/model.ts';
import { isOn } from '../../actions/engine/plan/planner.ts';

const flag = (value: JsonValue, rollout?: FlagSpec['rollout']): FlagSpec => ({ key: 'k', value, killSwitch: false, dependsOn: [], ...(rollout ? { rollout } : {}) });
const whenFlag = (value: JsonValue | undefined): boolean => conditionHolds({ key: 'k' }, { values: new Map(value === undefined ? [] : [['k', value]]) });

const OFF: JsonValue[] = [false, null, { enabled: false }, { enabled: null }, { enabled: 'true' }, { enabled: 1 }, { enabled: false, variant: 'b' }];
const ON: JsonValue[] = [true, 0, '', 'off', [], {}, { enabled: true }, { enabled: true, variant: 'b' }, { version: 'v2' }, [false]];

describe('a flag is on', () => {
  it.each(OFF.map((v) => [JSON.stringify(v), v]))('%s is off for the dependency gate and for when_flag alike', (_, value) => {
    expect(valueIsOn(value)).toBe(false);
    expect(isOn(flag(value))).toBe(false);
    expect(whenFlag(value)).toBe(false);
  });

  it.each(ON.map((v) => [JSON.stringify(v), v]))('%s is on for the dependency gate and for when_flag alike', (_, value) => {
    expect(valueIsOn(value)).toBe(true);
    expect(isOn(flag(value))).toBe(true);
    expect(whenFlag(value)).toBe(true);
  });

  it('a missing live value is off; a dependency at stage off is off whatever its value, and on at any other stage', () => {
    expect(whenFlag(undefined)).toBe(false);
    expect(isOn(flag({ enabled: true }, { stage: 'off' }))).toBe(false);
    expect(isOn(flag({ enabled: true }, { stage: 'dark' }))).toBe(true);
    expect(isOn(flag({ enabled: null }, { stage: 'full' }))).toBe(false);
  });

  it('when_flag with equals compares the live value, whatever it is', () => {
    expect(conditionHolds({ key: 'k', equals: { enabled: null } }, { values: new Map([['k', { enabled: null }]]) })).toBe(true);
    expect(conditionHolds({ key: 'k', equals: false }, { values: new Map() })).toBe(false);
  });
});
