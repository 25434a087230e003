import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { diffLines } from 'diff';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { editEnvironmentText } from '../../actions/engine/promote/edit-file.ts';

const production = readFileSync(join(import.meta.dirname, '../../environments/production.yaml'), 'utf8');

/** The lines of `after` that differ from `before`, as [-removed, +added]. */
function changedLines(before: string, after: string): { removed: string[]; added: string[] } {
  const parts = diffLines(before, after);
  const lines = (kind: 'removed' | 'added'): string[] => parts.filter((p) => p[kind]).flatMap((p) => p.value.replace(/\n$/, '').split('\n'));
  return { removed: lines('removed'), added: lines('added') };
}

describe('minimal edits of an environment file', () => {
  it('moves a flow-style rollout and keeps every other byte (comments, folded SQL, key order)', () => {
    const after = editEnvironmentText('environments/production.yaml', production, [{ kind: 'position', key: 'ranker.policy', to: { stage: 'canary', percent: 25 } }]);
    expect(after).toBe(production.replace('rollout: { stage: canary, percent: 5 }', 'rollout: { stage: canary, percent: 25 }'));
    // Unrelated comment, aligned as written, and the folded SQL survive byte for byte.
    expect(after).toContain('  advisory_lock: { mode: fail }          # never wait on a second apply in production\n');
    expect(after).toContain("    sql: >-\n      SELECT table_name FROM information_schema.tables\n      WHERE table_schema = 'public'\n");
    expect(Object.keys((parse(after) as { flags: object }).flags)).toEqual(Object.keys((parse(production) as { flags: object }).flags));
  });

  it('adds and drops percent in flow maps, changes values in their style, adds flags after their upstream neighbour', () => {
    const after = editEnvironmentText('environments/production.yaml', production, [
      { kind: 'position', key: 'ranker.policy', to: { stage: 'full' } },
      { kind: 'position', key: 'crush_mode.enabled', to: { stage: 'canary', percent: 5 } },
      { kind: 'value', key: 'global.safe_mode', value: { enabled: true } },
      { kind: 'add', key: 'checkout.v2', flag: { value: { enabled: true }, contract: 'toggle', owner: '@web', depends_on: ['learning.enabled', { flag: 'ranker.policy', for: '1d' }], rollout: { stage: 'off' } }, after: 'ranker.policy' },
    ]);
    expect(changedLines(production, after)).toEqual({
      removed: ['    value: { enabled: false }', '    rollout: { stage: canary, percent: 5 }', '    rollout: { stage: off }'],
      added: [
        '    value: { enabled: true }',
        '    rollout: { stage: full }',
        '  checkout.v2:',
        '    value: { enabled: true }',
        '    contract: toggle',
        '    owner: "@web"',
        '    depends_on: [learning.enabled, {flag: ranker.policy, for: 1d}]',
        '    rollout: { stage: off }',
        '    rollout: { stage: canary, percent: 5 }',
      ],
    });
    const flags = (parse(after) as { flags: Record<string, unknown> }).flags;
    expect(Object.keys(flags)).toEqual(['global.safe_mode', 'ranker.policy', 'checkout.v2', 'marketplace.suggest', 'learning.enabled', 'crush_mode.enabled']);
    expect(flags['checkout.v2']).toEqual({ value: { enabled: true }, contract: 'toggle', owner: '@web', depends_on: ['learning.enabled', { flag: 'ranker.policy', for: '1d' }], rollout: { stage: 'off' } });
    expect(flags['global.safe_mode']).toEqual({ value: { enabled: true }, kill_switch: true, owner: '@sre' });
  });

  it('edits block-style rollouts and values in place', () => {
    const text = [
      'version: 1',
      'flags:',
      '  a:   # the first flag',
      '    value:',
      '      x: 1',
      '      y: [1, 2]',
      '    rollout:',
      '      stage: canary',
      '      percent: 5   # first step',
      '  b:',
      '    value: 1',
      '    rollout:',
      '      stage: dark',
      '# end of flags',
      '',
    ].join('\n');
    const after = editEnvironmentText('f.yaml', text, [
      { kind: 'position', key: 'a', to: { stage: 'full' } },
      { kind: 'position', key: 'b', to: { stage: 'canary', percent: 5 } },
      { kind: 'value', key: 'a', value: { x: 2, y: [1, 2] } },
      { kind: 'value', key: 'b', value: 2 },
    ]);
    expect(after).toBe(
      [
        'version: 1',
        'flags:',
        '  a:   # the first flag',
        '    value:',
        '      x: 2',
        '      y:',
        '        - 1',
        '        - 2',
        '    rollout:',
        '      stage: full',
        '  b:',
        '    value: 2',
        '    rollout:',
        '      stage: canary',
        '      percent: 5',
        '# end of flags',
        '',
      ].join('\n'),
    );
  });
});
