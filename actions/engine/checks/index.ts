/** Smoke and contract checks against the live system: read-only, bounded, reported. */
export type { CheckKind, CheckReport, CheckResult, CheckStatus, ResolvedCheck } from './types.ts';
export { runChecks, runEnvironmentChecks, DEFAULT_CONCURRENCY, DEFAULT_CHECK_TIMEOUT_MS, type RunChecksOptions } from './run-checks.ts';
export { conditionHolds, servedToEveryone, type FlagCondition, type FlagVariant } from './flag-condition.ts';
export { atPointer, reportedFlagMismatches } from './reported-flags.ts';
export { resolveChecks, SHARED_CHECKS_DIR } from './shared-checks.ts';
export { assertReadOnlyStatement, runReadOnly, checkConnection, checkAccess, chooseRole, RefusedQueryError, SideEffectError, ChecksRoleError, CheckTimeoutError, type CheckAccess, type CheckConnection } from './guard.ts';
export { prepareChecksRole, grantChecksRole, checksRoleOf, checksRoleSchemas } from './checks-role.ts';
export { renderCheckReport, renderJunit, summaryText, type ReportFormat } from './render.ts';
export { verifyAfterApply, revertFlagChanges, liveFlagView, type VerifyAfterApplyResult, type RevertResult } from './after-apply.ts';
