/**
 * The definitions services are served now: rollout.flag_definitions as the provider reads it
 * (the same query, the same parser), for `rollout export`. Rows that cannot be parsed come
 * back as problems, not as a throw.
 */
import type pg from 'pg';
import { isProblem, parseDefinition, type DefinitionProblem, type DefinitionRow, type FlagDefinition } from '../../../packages/provider/src/definition.ts';
import { SELECT_ALL } from '../../../packages/provider/src/queries.ts';
import { UserError } from '../errors.ts';

export interface LiveDefinitions {
  definitions: FlagDefinition[];
  problems: DefinitionProblem[];
}

export async function readLiveDefinitions(client: pg.ClientBase, environment: string): Promise<LiveDefinitions> {
  let rows: DefinitionRow[];
  try {
    rows = (await client.query<DefinitionRow>(`${SELECT_ALL} ORDER BY key`)).rows;
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') {
      throw new UserError(`The database of environment "${environment}" has no rollout.flag_definitions yet: nothing has been applied there. Run rollout apply --env ${environment} first (apply installs it).`, { cause: error });
    }
    throw error;
  }
  const definitions: FlagDefinition[] = [];
  const problems: DefinitionProblem[] = [];
  for (const row of rows) {
    const parsed = parseDefinition(row);
    if (isProblem(parsed)) problems.push(parsed);
    else definitions.push(parsed);
  }
  return { definitions, problems };
}
