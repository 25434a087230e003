/**
 * `rollout export`: an environment's flag definitions in another tool's format. The source is
 * the live state (rollout.flag_definitions). The seam for Git's state (`--desired`, and
 * apply's optional `export:`) is `ExportSource`: a second source that resolves the desired
 * definitions feeds the same renderer.
 */
import type { DefinitionProblem, FlagDefinition } from '../../../packages/provider/src/definition.ts';
import { toFlagd } from './flagd.ts';

export const EXPORT_FORMATS = ['flagd'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Where the definitions come from: the database ('live'), or Git (serving/definitions.ts desiredDefinitions, `--desired`). */
export type ExportSource = 'live' | 'desired';

export interface RenderedExport {
  /** The file's text (JSON, ending in a newline). */
  text: string;
  flags: number;
  /** Definitions that could not be read or expressed: the export is refused while there are any. */
  problems: DefinitionProblem[];
}

export function renderExport(format: ExportFormat, environment: string, definitions: readonly FlagDefinition[], unreadable: readonly DefinitionProblem[] = []): RenderedExport {
  switch (format) {
    case 'flagd': {
      const { document, problems } = toFlagd(definitions, { environment });
      return { text: `${JSON.stringify(document, null, 2)}\n`, flags: Object.keys(document.flags).length, problems: [...unreadable, ...problems] };
    }
  }
}
