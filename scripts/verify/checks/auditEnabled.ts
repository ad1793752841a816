/**
 * Check 4: unified audit logging is on. Read from the switch itself (`Get-AdminAuditLogConfig`)
 * when the caller may read it; otherwise inferred, as before, from the Management API's
 * `DataServiceException … does not exist` answer. The result says which source it used.
 * https://learn.microsoft.com/en-us/purview/audit-log-enable-disable
 */
import type { SubscriptionStatus } from "../../../collector/src/source/client";
import {
  AUDIT_OFF_ANSWER,
  AUDIT_OFF_REASON,
  AUDIT_SOURCE_INFERENCE,
  AUDIT_SOURCE_SWITCH,
  auditEnableCommand,
  auditOffFix,
  describeManagementError,
  describeSwitchReadError,
  isAuditOffError,
} from "../explain";
import type { VerifyConfig } from "../inputs";
import type { AuditSwitchReading } from "../probes/auditSwitch";
import type { ContentOutcome } from "./content";
import { result, type Settled, type VerifyCheckResult } from "./result";

const PROBE = "subscriptions/list and subscriptions/content";

/** True when any Management API read answered the audit-off DataServiceException. */
function managementSaysAuditOff(
  list: Settled<SubscriptionStatus[]> | null,
  content: ContentOutcome[] | null,
): boolean {
  if (!list) return false;
  const errors: unknown[] = [];
  if (!list.ok) errors.push(list.error);
  for (const c of content ?? []) if (!c.listing.ok) errors.push(c.listing.error);
  return errors.some(isAuditOffError);
}

/**
 * Judges the audit switch from what `Get-AdminAuditLogConfig` answered (when it was read) and
 * what `subscriptions/list` and the content listings answered. Pure.
 */
export function judgeAuditEnabled(
  config: VerifyConfig,
  list: Settled<SubscriptionStatus[]> | null,
  content: ContentOutcome[] | null,
  reading: AuditSwitchReading,
): VerifyCheckResult {
  if (reading.kind === "read") return judgeFromSwitch(config, reading.enabled, list, content);
  const fallback =
    reading.kind === "unreadable"
      ? `the caller cannot read Get-AdminAuditLogConfig: ${describeSwitchReadError(reading.error)}`
      : `the switch was not read: ${reading.why}`;
  return judgeFromInference(config, list, content, fallback);
}

function judgeFromSwitch(
  config: VerifyConfig,
  enabled: boolean,
  list: Settled<SubscriptionStatus[]> | null,
  content: ContentOutcome[] | null,
): VerifyCheckResult {
  const details = { source: AUDIT_SOURCE_SWITCH, unifiedAuditLogIngestionEnabled: enabled };
  if (!enabled) {
    return result(
      "audit-enabled",
      "fail",
      "unified audit logging is off (read from Get-AdminAuditLogConfig: UnifiedAuditLogIngestionEnabled is false)",
      auditEnableCommand(config),
      details,
    );
  }
  if (managementSaysAuditOff(list, content)) {
    return result(
      "audit-enabled",
      "warn",
      "unified audit logging is enabled, not yet effective (read from Get-AdminAuditLogConfig; the Management API still answers DataServiceException: tenant does not exist)",
      "wait: the change takes up to 60 minutes to take effect; then re-run verify",
      { ...details, probe: PROBE, answer: AUDIT_OFF_ANSWER },
    );
  }
  return result(
    "audit-enabled",
    "pass",
    list
      ? "unified audit logging is on (read from Get-AdminAuditLogConfig)"
      : "unified audit logging is on (read from Get-AdminAuditLogConfig; the Management API was not probed: check 1 failed)",
    null,
    list ? { ...details, probe: PROBE } : details,
  );
}

function judgeFromInference(
  config: VerifyConfig,
  list: Settled<SubscriptionStatus[]> | null,
  content: ContentOutcome[] | null,
  fallback: string,
): VerifyCheckResult {
  const details = { source: AUDIT_SOURCE_INFERENCE, switchNotRead: fallback };
  if (!list) {
    return result(
      "audit-enabled",
      "skip",
      "no token to probe the API (check 1 failed)",
      null,
      details,
    );
  }
  if (managementSaysAuditOff(list, content)) {
    // The reason stays the inference's own wording; the source is in the details and the fix.
    return result(
      "audit-enabled",
      "fail",
      AUDIT_OFF_REASON,
      `${auditOffFix(config)} [inferred from the Management API; ${fallback}]`,
      { ...details, probe: PROBE, answer: AUDIT_OFF_ANSWER },
    );
  }
  if (!list.ok) {
    const described = describeManagementError(list.error, config, "subscriptions/list");
    return result(
      "audit-enabled",
      "skip",
      `could not probe: ${described.reason}`,
      described.fix,
      details,
    );
  }
  const listed = (content ?? []).filter((c) => c.listing.ok && c.listing.value.length > 0).length;
  return result(
    "audit-enabled",
    "pass",
    `${
      listed > 0
        ? "the Management API serves this tenant's audit content"
        : "the Management API knows this tenant's audit store (no DataServiceException)"
    } (inferred: ${fallback})`,
    null,
    { ...details, probe: PROBE },
  );
}
