/**
 * The caller workflows `rollout init` writes: a few lines each, calling the reusable
 * workflows at the release they were written for, with the actions of the same release.
 * Pure text builders: tests lint what they return.
 */
import { DEFAULT_MONITOR_EVERY_MS } from '../config/exit-criteria.ts';
import { formatDuration } from '../config/duration.ts';
import { cronFor } from '../monitors/schedule.ts';
export interface CallerOptions {
  /** owner/name of the repository with the reusable workflows and actions. */
  repository: string;
  /** The release tag both are pinned to, e.g. v0.1.0. */
  tag: string;
  /** The branch merges apply from. */
  branch: string;
  /** Environments on database servers, upstream first. */
  environments: readonly string[];
  /** The environment applied only from a reviewed plan, if any. */
  production?: string;
  /** The repository folder holding environments/, relative to the repository root ('.' when it is the root). */
  root: string;
  /** The migrations folder, relative to root. */
  migrations: string;
  /** The shortest monitor cadence (`every`), which the health schedule follows; the default cadence when absent. */
  monitorEveryMs?: number;
}

const PATHS = ['environments/**', 'contracts/**', 'checks/**', 'rollout.yaml'];

export function callerWorkflows(options: CallerOptions): Array<{ path: string; content: string }> {
  const uses = (name: string): string => `${options.repository}/.github/workflows/${name}@${options.tag}`;
  const pinned = [`actions-repository: ${options.repository}`, `actions-ref: ${options.tag}`, ...(options.root === '.' ? [] : [`root: ${options.root}`])];
  const prefix = options.root === '.' ? '' : `${options.root}/`;
  // Runs only when something rollout reads changed, the migrations folder included (prisma/migrations, …).
  const paths = JSON.stringify([...PATHS, `${options.migrations}/**`].map((p) => `${prefix}${p}`)).replace(/","/g, '", "');
  const production = options.production ? [`production-environment: ${options.production}`] : [];
  const withBlock = (lines: readonly string[]): string => `    with:\n${lines.map((l) => `      ${l}`).join('\n')}\n`;
  const header = (what: string): string => `# Written by rollout init for ${options.tag}: ${what}\n# Upgrade by changing ${options.tag} in both places (uses: and actions-ref:).\n`;
  const breakGlassDefault = options.production ?? options.environments.at(-1) ?? '';
  const health = cronFor(options.monitorEveryMs ?? DEFAULT_MONITOR_EVERY_MS);
  return [
    {
      path: '.github/workflows/rollout-pr.yml',
      content: `${header('validate every pull request and plan the environments it affects, with read-only URLs.')}name: rollout PR
on:
  pull_request:
    paths: ${paths}

permissions:
  contents: read

concurrency:
  group: rollout-pr-\${{ github.event.pull_request.number }}
  cancel-in-progress: true

jobs:
  rollout:
    uses: ${uses('rollout-pr.yml')}
${withBlock(pinned)}    permissions:
      contents: read
      pull-requests: write
    secrets: inherit
`,
    },
    {
      path: '.github/workflows/rollout-merge.yml',
      content: `${header(`apply on merge to ${options.branch}, upstream first; production from its reviewed plan.`)}name: rollout merge
on:
  push:
    branches: [${options.branch}]
    paths: ${paths}
  workflow_dispatch:

permissions:
  contents: read

jobs:
  rollout:
    uses: ${uses('rollout-merge.yml')}
${withBlock([...pinned, ...production])}    permissions:
      contents: read
      deployments: write
    secrets: inherit
`,
    },
    {
      path: '.github/workflows/rollout-promote.yml',
      content: `${header('open or update the promotion PRs after each merge run, and hourly as soak time passes.')}name: rollout promote
on:
  workflow_run:
    workflows: [rollout merge]
    types: [completed]
    branches: [${options.branch}]
  schedule:
    - cron: "23 * * * *"
  workflow_dispatch:

permissions:
  contents: read

jobs:
  rollout:
    uses: ${uses('rollout-promote.yml')}
${withBlock([...pinned, `base: ${options.branch}`])}    permissions:
      contents: write
      pull-requests: write
    secrets: inherit
`,
    },
    {
      path: '.github/workflows/rollout-health.yml',
      content: `${header(`monitors and drift every ${formatDuration(health.intervalMs)} (the shortest monitor every; rollout validate says when to change it); break-glass by hand.`)}name: rollout health
on:
  schedule:
    - cron: "${health.cron}"
  workflow_dispatch:
    inputs:
      environment:
        description: Environment to check, or to set the kill switch in
        type: choice
        options: [${options.environments.join(', ')}]
        default: ${breakGlassDefault}
      kill-switch:
        description: "Break-glass: a flag marked kill_switch: true, set to {\\"enabled\\": true} at once"
        type: string
        default: ""
      reason:
        description: Why (required with kill-switch; goes in the ledger)
        type: string
        default: ""

permissions:
  contents: read

jobs:
  rollout:
    uses: ${uses('rollout-health.yml')}
${withBlock([
  ...pinned,
  ...production,
  `base: ${options.branch}`,
  'environment: ${{ inputs.environment }}',
  'kill-switch: ${{ inputs.kill-switch }}',
  'reason: ${{ inputs.reason }}',
  "# Who may set a kill switch by hand (GitHub logins), e.g. '[\"alice\", \"bob\"]'; empty refuses everyone.",
  "break-glass-actors: '[]'",
])}    permissions:
      contents: write
      pull-requests: write
      issues: write
    secrets: inherit
`,
    },
  ];
}
