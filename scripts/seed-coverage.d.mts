/** Types of scripts/seed-coverage.mjs, for its test. */
export interface Counts {
  done: number;
  pending: number;
  outside: number;
  total: number;
  /** pending rows by the feature they wait for */
  pendingOn: Record<string, number>;
}

export interface ReadmeCheck {
  /** The README, relative to the repository root. */
  name: string;
  counts: Counts;
  /** One sentence per problem, with README:line and the row number. */
  problems: string[];
  /** The README's text (with --fix: the stale line numbers moved). */
  text: string;
}

export declare function checkReadme(readme: string, options?: { fix?: boolean }): ReadmeCheck;
export declare function guideReadmes(): string[];
export declare function slug(heading: string): string;
