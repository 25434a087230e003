/** Which extensions the embedded database must load before it opens: those the environment's migrations create. */
import { readMigrationFiles } from './files.ts';
import { extensionsNamedIn } from './extensions.ts';

export async function historyExtensions(root: string, directory: string): Promise<string[]> {
  const { files } = await readMigrationFiles(root, directory);
  return [...new Set(files.flatMap((file) => extensionsNamedIn(file.sql)))].sort();
}
