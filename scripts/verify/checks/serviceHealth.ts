/** Check 8: the Microsoft 365 workloads that feed the audit log are healthy (context only). */
import { graphErrorText, graphFix } from "../explain";
import type { ServiceHealthOverview } from "../probes/graph";
import { result, type Settled, type VerifyCheckResult } from "./result";

/** Workloads whose health matters to the audit log, matched on Graph's `service` names. */
const RELEVANT_SERVICES = [
  /exchange/i,
  /sharepoint/i,
  /onedrive/i,
  /teams/i,
  /microsoft 365 suite/i,
  /entra|azure active directory|identity/i,
  /purview|compliance/i,
];

/** Graph `serviceHealthStatus` values that mean "working" (anything else is shown as degraded). */
const HEALTHY_STATUSES = new Set(
  [
    "serviceOperational",
    "serviceRestored",
    "falsePositive",
    "investigationSuspended",
    "resolved",
    "mitigated",
    "mitigatedExternal",
    "resolvedExternal",
    "postIncidentReviewPublished",
  ].map((s) => s.toLowerCase()),
);

/** Judges Graph's service health read: skipped when it could not be read. Pure. */
export function judgeServiceHealth(health: Settled<ServiceHealthOverview[]>): VerifyCheckResult {
  if (!health.ok) {
    return result(
      "service-health",
      "skip",
      `cannot read Microsoft 365 service health: ${graphErrorText(health.error)}`,
      graphFix(
        health.error,
        "give the caller ServiceHealth.Read.All to show service health as context",
      ),
    );
  }
  return serviceHealthResult(health.value);
}

/**
 * Check 8 from Graph's health overviews: warn when a workload that feeds the audit log is not
 * operational, pass otherwise. Pure; exported for tests.
 */
export function serviceHealthResult(
  overviews: readonly ServiceHealthOverview[],
): VerifyCheckResult {
  const relevant = overviews.filter((s) => RELEVANT_SERVICES.some((re) => re.test(s.service)));
  const degraded = relevant.filter((s) => !HEALTHY_STATUSES.has(String(s.status).toLowerCase()));
  const details = {
    services: Object.fromEntries(relevant.map((s) => [s.service, s.status])),
  };
  if (degraded.length > 0) {
    return result(
      "service-health",
      "warn",
      `degraded: ${degraded.map((s) => `${s.service} (${s.status})`).join(", ")}; audit content may be delayed`,
      "see Microsoft 365 admin center → Health → Service health; re-run verify after the incident",
      details,
    );
  }
  return result(
    "service-health",
    "pass",
    relevant.length > 0
      ? `${relevant.length} relevant services operational`
      : "no relevant service reported by Graph",
    null,
    details,
  );
}
