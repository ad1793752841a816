/** Check 4: unified audit logging is on (the Management API knows the tenant's audit store). */
import type { SubscriptionStatus } from "../../../collector/src/source/client";
import {
  AUDIT_OFF_ANSWER,
  AUDIT_OFF_FIX,
  AUDIT_OFF_REASON,
  describeManagementError,
  isAuditOffError,
} from "../explain";
import type { VerifyConfig } from "../inputs";
import type { ContentOutcome } from "./content";
import { result, type Settled, type VerifyCheckResult } from "./result";

/** Judges the audit switch from what `subscriptions/list` and the content listings answered. Pure. */
export function judgeAuditEnabled(
  config: VerifyConfig,
  list: Settled<SubscriptionStatus[]> | null,
  content: ContentOutcome[] | null,
): VerifyCheckResult {
  if (!list)
    return result("audit-enabled", "skip", "no token to probe the API (check 1 failed)", null);
  const errors: unknown[] = [];
  if (!list.ok) errors.push(list.error);
  for (const c of content ?? []) if (!c.listing.ok) errors.push(c.listing.error);
  if (errors.some(isAuditOffError)) {
    return result("audit-enabled", "fail", AUDIT_OFF_REASON, AUDIT_OFF_FIX, {
      probe: "subscriptions/list and subscriptions/content",
      answer: AUDIT_OFF_ANSWER,
    });
  }
  if (!list.ok) {
    const described = describeManagementError(list.error, config, "subscriptions/list");
    return result("audit-enabled", "skip", `could not probe: ${described.reason}`, described.fix);
  }
  const listed = (content ?? []).filter((c) => c.listing.ok && c.listing.value.length > 0).length;
  return result(
    "audit-enabled",
    "pass",
    listed > 0
      ? "the Management API serves this tenant's audit content"
      : "the Management API knows this tenant's audit store (no DataServiceException)",
    null,
    { probe: "subscriptions/list and subscriptions/content" },
  );
}
