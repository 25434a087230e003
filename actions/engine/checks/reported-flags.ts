/**
 * `http.reports_flags`: a response that reports flags (seed 002's `/health` and its
 * `kill_switches`) must report what they are live. Each entry is a JSON pointer into the body
 * and a flag key. What the body says there is compared with a plain read of the flag — the
 * value table, as `when_flag` by value reads it, so the off value until `full` — because a
 * process-wide report is what a plain read gives: a boolean with whether the flag is on (the
 * one rule of flag-on.ts that when_flag and depends_on use), anything else with the value itself.
 */
import equal from 'fast-deep-equal';
import { valueIsOn } from '../config/flag-on.ts';
import type { JsonValue } from '../config/model.ts';
import { show } from './compare.ts';

/** What the body at `pointer` (RFC 6901) holds; `found: false` when the path is not there. */
export function atPointer(body: unknown, pointer: string): { found: true; value: unknown } | { found: false } {
  let here: unknown = body;
  for (const raw of pointer.split('/').slice(1)) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(here) && /^(0|[1-9]\d*)$/.test(token) && Number(token) < here.length) here = here[Number(token)];
    else if (here !== null && typeof here === 'object' && !Array.isArray(here) && Object.hasOwn(here, token)) here = (here as Record<string, unknown>)[token];
    else return { found: false };
  }
  return { found: true, value: here };
}

/** One line per pointer whose report differs from the live flag; empty when every report agrees. */
export function reportedFlagMismatches(body: unknown, reports: Readonly<Record<string, string>>, flags: ReadonlyMap<string, JsonValue>): string[] {
  const mismatches: string[] = [];
  for (const [pointer, key] of Object.entries(reports)) {
    const live = flags.get(key);
    const reported = atPointer(body, pointer);
    if (live === undefined) mismatches.push(`the body reports flag ${key} at ${pointer}, but ${key} is not live in this environment`);
    else if (!reported.found) mismatches.push(`${pointer} is missing from the body; it should report flag ${key} (live value ${show(live)})`);
    else if (typeof reported.value === 'boolean') {
      const on = valueIsOn(live);
      if (reported.value !== on) mismatches.push(`${pointer} is ${reported.value}, but flag ${key} is ${on ? 'on' : 'off'} (live value ${show(live)})`);
    } else if (!equal(reported.value, live)) mismatches.push(`${pointer} is ${show(reported.value)}, but flag ${key}'s live value is ${show(live)}`);
  }
  return mismatches;
}
