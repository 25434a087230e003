import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('the precompiled validators match contracts/environment.schema.json, contracts/repository.schema.json and the meta-schemas', () => {
  const script = fileURLToPath(new URL('../../scripts/compile-schemas.mjs', import.meta.url));
  // --check exits 1 (and execFileSync throws) when the committed code is stale.
  expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
});
