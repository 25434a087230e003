/**
 * The provider package as a service gets it: it depends on @openfeature/server-sdk and pg
 * only (its package.json and every import of its sources and of its build say so), it builds
 * to dist/ with types, and the example service runs from a fresh folder against a real
 * database, serving a canary flag and picking up an applied change without a restart.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlagDefinition } from '../../packages/provider/src/definition.ts';
import { evaluate } from '../../packages/provider/src/rule.ts';
import { INTERNAL, unitFor } from './cases.ts';
import { servingTargets, writeDefinitions, type ServingDatabase } from './support/definitions.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const packageDir = join(repo, 'packages/provider');
const ALLOWED = ['@openfeature/server-sdk', 'pg'];

/** Every module specifier a file imports or re-exports (static and dynamic), as TypeScript reads it. */
function importsOf(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);
}

function checkSpecifiers(files: string[], root: string): string[] {
  const outside: string[] = [];
  for (const file of files) {
    for (const specifier of importsOf(file)) {
      if (specifier.startsWith('node:')) continue;
      if (specifier.startsWith('.')) {
        const target = resolve(dirname(file), specifier);
        if (!target.startsWith(root)) outside.push(`${file}: ${specifier}`);
        continue;
      }
      const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
      if (!ALLOWED.includes(name)) outside.push(`${file}: ${specifier}`);
    }
  }
  return outside;
}

const filesIn = (dir: string, ext: string): string[] => readdirSync(dir).filter((f) => f.endsWith(ext)).map((f) => join(dir, f));

describe('the provider package', () => {
  let built: string;
  beforeAll(async () => {
    built = mkdtempSync(join(tmpdir(), 'rollout-provider-build-'));
    await promisify(execFile)(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', join(packageDir, 'tsconfig.build.json'), '--outDir', join(built, 'dist')]);
  }, 120_000);
  afterAll(() => rmSync(built, { recursive: true, force: true }));

  it('depends on @openfeature/server-sdk and pg only', () => {
    const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(manifest.dependencies as object).sort()).toEqual(ALLOWED);
    expect(manifest.peerDependencies).toBeUndefined();
    expect(manifest.exports).toEqual({ '.': { types: './dist/index.d.ts', import: './dist/index.js' }, './package.json': './package.json' });
  });

  it('imports nothing outside itself but those two and node: built-ins (sources and build)', () => {
    const sources = filesIn(join(packageDir, 'src'), '.ts');
    expect(sources.length).toBeGreaterThanOrEqual(8);
    expect(checkSpecifiers(sources, join(packageDir, 'src'))).toEqual([]);
    const output = filesIn(join(built, 'dist'), '.js');
    expect(output.map((f) => f.slice(join(built, 'dist').length + 1)).sort()).toEqual(sources.map((f) => f.slice(join(packageDir, 'src').length + 1).replace(/\.ts$/, '.js')).sort());
    expect(checkSpecifiers(output, join(built, 'dist'))).toEqual([]);
    // Relative imports of the build point at .js files that exist (tsc rewrote the .ts extensions).
    for (const file of output) for (const specifier of importsOf(file).filter((s) => s.startsWith('.'))) expect(specifier, file).toMatch(/\.js$/);
    expect(filesIn(join(built, 'dist'), '.d.ts').length).toBe(output.length);
  });

  it('a check that would catch a pipeline import', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-provider-import-'));
    try {
      const file = join(dir, 'bad.ts');
      writeFileSync(file, `import yaml from 'yaml';\nexport { UserError } from '../../actions/engine/errors.ts';\nexport const later = () => import('commander');\n`);
      expect(checkSpecifiers([file], dir)).toHaveLength(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe.each(servingTargets())('the example service on the $name database', (target) => {
    let db: ServingDatabase;
    let service: ChildProcess | undefined;
    let folder: string;
    const lines: string[] = [];
    const waiters: Array<{ match: RegExp; resolve: (line: string) => void }> = [];

    function nextLine(match: RegExp): Promise<string> {
      const seen = lines.find((l) => match.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    }

    beforeAll(async () => {
      db = await target.open();
      // A fresh folder, as a user's service: its own copy of the example and of the built package.
      folder = mkdtempSync(join(tmpdir(), 'rollout-example-service-'));
      cpSync(join(repo, 'examples/service-provider'), folder, { recursive: true });
      const installed = join(folder, 'node_modules/@rollout/openfeature-provider');
      mkdirSync(installed, { recursive: true });
      cpSync(join(packageDir, 'package.json'), join(installed, 'package.json'));
      cpSync(join(built, 'dist'), join(installed, 'dist'), { recursive: true });
      // Its two dependencies, as npm would have installed them (here: this repository's copies).
      mkdirSync(join(folder, 'node_modules/@openfeature'), { recursive: true });
      symlinkSync(join(repo, 'node_modules/@openfeature/server-sdk'), join(folder, 'node_modules/@openfeature/server-sdk'));
      symlinkSync(join(repo, 'node_modules/@openfeature/core'), join(folder, 'node_modules/@openfeature/core'));
      symlinkSync(join(repo, 'node_modules/pg'), join(folder, 'node_modules/pg'));
    }, 120_000);
    afterAll(async () => {
      service?.kill('SIGTERM');
      await db?.dispose();
      rmSync(folder, { recursive: true, force: true });
    });

    it('serves a canary flag as the rule does and picks up an applied change', async () => {
      const canary: FlagDefinition = { key: 'checkout.v2', value: { enabled: true }, offValue: { enabled: false }, stage: 'canary', percent: 25, segments: [INTERNAL], killSwitch: false, ledgerId: null };
      await writeDefinitions(db.writer, [canary]);
      service = spawn(process.execPath, ['server.mjs'], { cwd: folder, env: { PATH: process.env.PATH, DATABASE_URL: db.url, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
      for (const stream of [service.stdout!, service.stderr!]) {
        createInterface({ input: stream }).on('line', (line) => {
          lines.push(line);
          for (const waiter of waiters.filter((w) => w.match.test(line))) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(line);
          }
        });
      }
      const port = Number(/listening on (\d+)/.exec(await nextLine(/listening on/))![1]);
      const ask = async (query: string) => (await (await fetch(`http://127.0.0.1:${port}/checkout?${query}`)).json()) as { checkout: unknown; variant: string; reason: string; stage: string };

      for (const [query, unit] of [
        [`user=${unitFor('checkout.v2', 25, 'in')}`, { targetingKey: unitFor('checkout.v2', 25, 'in') }],
        [`user=${unitFor('checkout.v2', 25, 'out')}`, { targetingKey: unitFor('checkout.v2', 25, 'out') }],
        ['user=carol&email_domain=corp.example', { targetingKey: 'carol', email_domain: 'corp.example' }],
      ] as const) {
        const rule = evaluate(canary, unit);
        expect(await ask(query), query).toMatchObject({ checkout: rule.value, variant: rule.variant, reason: rule.reason, stage: 'canary' });
      }

      await writeDefinitions(db.writer, [{ ...canary, stage: 'full' }]);
      await nextLine(/flags changed: .*checkout\.v2/);
      expect(await ask(`user=${unitFor('checkout.v2', 25, 'out')}`)).toMatchObject({ checkout: { enabled: true }, variant: 'on', reason: 'STATIC', stage: 'full' });
    });
  });
});
