/** Check 3: the app's secret or certificate is not expired, not about to, and outlives its rotation. */
import { DAY_IN_MS } from "../../../domain/apiLimits";
import { graphErrorText, graphFix } from "../explain";
import type { VerifyConfig } from "../inputs";
import type { GraphAppCredential, GraphApplication } from "../probes/graph";
import { result, type Settled, type VerifyCheckResult } from "./result";
import type { TokenOutcome } from "./token";

interface CredentialView {
  keyId: string | null;
  displayName: string | null;
  startDateTime: string | null;
  endDateTime: string;
  daysLeft: number;
}

function isoOrNull(text: string | null | undefined): string | null {
  const ms = text ? Date.parse(text) : Number.NaN;
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/**
 * Judges the app's credential end dates (from Graph) against the warning period and the
 * rotation schedule; an expired secret reported by check 1 fails it even without Graph. Pure.
 */
export function judgeCredentialExpiry(
  config: VerifyConfig,
  token: TokenOutcome,
  application: Settled<GraphApplication>,
  now: number,
): VerifyCheckResult {
  const kind = config.appCredential.kind === "secret" ? "client secret" : "certificate";
  const rotate =
    config.stack !== null
      ? `re-run \`pulumi up --stack ${config.stack}\` to issue a new ${kind}, then update the collector`
      : `issue a new ${kind} (re-run \`pulumi up\`, or Entra ID → App registrations → Certificates & secrets) and update the collector`;
  const tokenSaysExpired = token.aadsts === "7000222";
  if (!application.ok) {
    if (tokenSaysExpired) {
      return result(
        "credential-expiry",
        "fail",
        "the client secret has expired (see check 1)",
        rotate,
      );
    }
    return result(
      "credential-expiry",
      "skip",
      `cannot read the app's credential end dates through Graph: ${graphErrorText(application.error)}`,
      graphFix(
        application.error,
        "give the caller Application.Read.All (or make it an owner of the app) to check expiry",
      ),
    );
  }
  const list: GraphAppCredential[] =
    (config.appCredential.kind === "secret"
      ? application.value.passwordCredentials
      : application.value.keyCredentials) ?? [];
  // Newest first; entries without a readable end date cannot be judged and are left out.
  const views: CredentialView[] = list
    .map((c) => ({
      keyId: c.keyId ?? null,
      displayName: c.displayName ?? null,
      startDateTime: isoOrNull(c.startDateTime),
      endDateTime: isoOrNull(c.endDateTime),
    }))
    .filter((c): c is Omit<CredentialView, "daysLeft"> => c.endDateTime !== null)
    .map((c) => ({ ...c, daysLeft: Math.floor((Date.parse(c.endDateTime) - now) / DAY_IN_MS) }))
    .sort((a, b) => Date.parse(b.endDateTime) - Date.parse(a.endDateTime));
  const details = {
    credentials: views,
    warnDays: config.expiryWarnDays,
    rotationDays: config.rotationDays,
  };
  const newest = views[0];
  if (!newest) {
    return result(
      "credential-expiry",
      token.token ? "warn" : "fail",
      `the app lists no ${kind} with an end date`,
      rotate,
      details,
    );
  }
  const newestEnd = Date.parse(newest.endDateTime);
  const endText = newest.endDateTime.slice(0, 10);
  if (newestEnd <= now) {
    return result(
      "credential-expiry",
      "fail",
      `every ${kind} of the app has expired (the newest ended ${endText})`,
      rotate,
      details,
    );
  }
  if (tokenSaysExpired) {
    return result(
      "credential-expiry",
      "fail",
      `the client secret in use has expired, but the app has a newer one valid until ${endText}`,
      "set AZURE_CLIENT_SECRET (and the collector's secret) to the newer secret's value",
      details,
    );
  }
  if (config.rotationDays !== null && newest.startDateTime) {
    const nextRotation = Date.parse(newest.startDateTime) + config.rotationDays * DAY_IN_MS;
    if (newestEnd < nextRotation) {
      return result(
        "credential-expiry",
        "fail",
        `the ${kind} expires ${endText}, before its next rotation on ${new Date(nextRotation).toISOString().slice(0, 10)}`,
        `make the ${kind} lifetime longer than the ${config.rotationDays}-day rotation period and re-run \`pulumi up\``,
        details,
      );
    }
  }
  if (newest.daysLeft < config.expiryWarnDays) {
    return result(
      "credential-expiry",
      "warn",
      `the ${kind} expires in ${newest.daysLeft} days (${endText}), within the ${config.expiryWarnDays}-day warning period`,
      rotate,
      details,
    );
  }
  return result(
    "credential-expiry",
    "pass",
    `the newest ${kind} is valid for ${newest.daysLeft} more days (until ${endText})`,
    null,
    details,
  );
}
