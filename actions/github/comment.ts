/**
 * Sticky comments and issues: one per environment, found again by a hidden marker, and
 * kept under GitHub's body limit with a pointer to the job summary for the rest.
 */

/** GitHub rejects comment, issue and PR bodies longer than this many characters. */
export const BODY_LIMIT = 65_536;

export const planMarker = (environment: string): string => `<!-- rollout:plan:${environment} -->`;
export const healthMarker = (environment: string): string => `<!-- rollout:health:${environment} -->`;
export const breakGlassMarker = (environment: string, flag: string): string => `<!-- rollout:break-glass:${environment}:${flag} -->`;
export const autoRollbackMarker = (environment: string, flag: string): string => `<!-- rollout:auto-rollback:${environment}:${flag} -->`;

/** The marker first, then the markdown; cut at a line boundary when too long, closing an open code fence. */
export function stickyBody(marker: string, markdown: string, summaryUrl: string, limit: number = BODY_LIMIT): string {
  const head = `${marker}\n`;
  if (head.length + markdown.length <= limit) return head + markdown;
  const tail = `\n\n**Cut short:** this is longer than GitHub allows in a comment (${limit.toLocaleString('en-US')} characters). The whole text is in the [job summary](${summaryUrl}).\n`;
  const fence = '\n```';
  const budget = limit - head.length - tail.length - fence.length;
  let cut = markdown.lastIndexOf('\n', budget);
  if (cut < budget / 2) cut = budget;
  // Never split a surrogate pair: a lone half is not valid text.
  const code = markdown.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  let body = markdown.slice(0, cut);
  if ((body.match(/^```/gm) ?? []).length % 2 === 1) body += fence;
  return head + body + tail;
}
