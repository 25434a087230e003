/** Backups sort by time and say which environment they are of: `<env>-20261125T120000Z.<ext>`. */
export function backupFileName(environment: string, extension: string, now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${environment}-${stamp}.${extension}`;
}
