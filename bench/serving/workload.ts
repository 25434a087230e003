/**
 * The serving benchmarks' workload: 10,000 flag definitions in the proportions of a real
 * environment (plain flags, every stage, a quarter of them canaries, segments on dark flags
 * and half the canaries), and units to evaluate them for. Deterministic.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FlagDefinition, Segment, Stage } from '../../packages/provider/src/definition.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const INTERNAL: Segment = { name: 'internal', keys: ['alice@corp', 'bob@corp'], attributes: { email_domain: ['corp.example'] } };

export function makeDefinitions(count: number): FlagDefinition[] {
  const definitions: FlagDefinition[] = [];
  for (let i = 0; i < count; i++) {
    const slot = i % 20;
    const stage: Stage | null = slot < 8 ? null : slot < 10 ? 'off' : slot < 12 ? 'dark' : slot < 14 ? 'shadow' : slot < 19 ? 'canary' : 'full';
    const boolean = slot < 8 && i % 4 === 0;
    const value = boolean ? true : { enabled: true, variant: `v${(i % 7) + 2}`, weight: (i % 100) / 100 };
    const offValue = boolean ? true : stage === null ? value : { enabled: false, variant: 'v1', weight: 0 };
    definitions.push({
      key: `feature.f${i}`,
      value,
      offValue,
      stage,
      percent: stage === 'canary' ? [1, 5, 10, 25, 50][i % 5] : 0,
      segments: stage === 'dark' || (stage === 'canary' && i % 2 === 0) ? [INTERNAL] : [],
      killSwitch: false,
      ledgerId: 1,
    });
  }
  return definitions;
}

export function makeUnits(count: number): Array<{ targetingKey: string; email_domain?: string }> {
  return Array.from({ length: count }, (_, i) => (i % 50 === 0 ? { targetingKey: `user-${i}@corp.example`, email_domain: 'corp.example' } : { targetingKey: `user-${i}@example.com` }));
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

/** Replace this benchmark's section of bench/RESULTS.md (between its markers), or append it. */
export function writeSection(name: string, body: string): void {
  const file = join(ROOT, 'bench', 'RESULTS.md');
  const startMarker = `<!-- ${name}:start -->`;
  const endMarker = `<!-- ${name}:end -->`;
  const section = `${startMarker}\n${body.trim()}\n${endMarker}`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n';
  const start = text.indexOf(startMarker);
  const end = text.indexOf(endMarker);
  text = start >= 0 && end > start ? text.slice(0, start) + section + text.slice(end + endMarker.length) : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, text);
  console.log(section);
}
