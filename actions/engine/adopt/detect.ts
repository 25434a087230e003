/** What an existing repository already has that rollout should use rather than recreate. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Where other tools keep migrations (the last two: Flyway's defaults), in the order they are looked for. */
export const MIGRATION_FOLDERS = ['prisma/migrations', 'supabase/migrations', 'db/migrations', 'migrations', 'db/migration', 'src/main/resources/db/migration'] as const;

/** The first of the well-known migration folders that exists and holds something. */
export function detectMigrationsFolder(root: string): string | undefined {
  return MIGRATION_FOLDERS.find((dir) => {
    const path = join(root, dir);
    return existsSync(path) && statSync(path).isDirectory() && readdirSync(path).length > 0;
  });
}
