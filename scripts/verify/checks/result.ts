/**
 * The eight verify checks' identities and the shape of their results. Every judge in this
 * folder is pure: it turns what the probes found into a {@link VerifyCheckResult}.
 */
import type { CheckResult, CheckStatus } from "../../common/output";

/** Stable identifiers of the checks, in run order (part of the JSON schema). */
export const CHECK_IDS = [
  "token",
  "permissions",
  "credential-expiry",
  "audit-enabled",
  "subscriptions",
  "content",
  "records",
  "service-health",
] as const;
export type CheckId = (typeof CHECK_IDS)[number];

/** Titles shown in the table, by check id. */
export const CHECK_TITLES: Readonly<Record<CheckId, string>> = Object.freeze({
  token: "Management API token",
  permissions: "Permissions and admin consent",
  "credential-expiry": "Credential expiry",
  "audit-enabled": "Unified audit logging",
  subscriptions: "Subscriptions",
  content: "Content flowing",
  records: "Records in the workspace",
  "service-health": "Microsoft 365 service health",
});

/** The result of one verify check. */
export type VerifyCheckResult = CheckResult<CheckId>;

/** What a probe settled to: its value, or the error it failed with. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Waits for a probe without letting it throw. */
export function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** A check result with its number and title filled in; a pass never carries a fix. */
export function result(
  id: CheckId,
  status: CheckStatus,
  reason: string,
  fix: string | null,
  details?: Record<string, unknown>,
): VerifyCheckResult {
  return {
    id,
    number: CHECK_IDS.indexOf(id) + 1,
    title: CHECK_TITLES[id],
    status,
    reason,
    fix: status === "pass" ? null : fix,
    ...(details ? { details } : {}),
  };
}

/** "12 min" or "3 h": an age or a lag for a reason line. */
export function formatAge(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 120) return `${minutes} min`;
  return `${Math.round(minutes / 60)} h`;
}
