/** Check 2: the token carries the Management API roles, and Graph shows the same grants. */
import { adminConsentUrl, graphErrorText } from "../explain";
import type { VerifyConfig } from "../inputs";
import { result, type Settled, type VerifyCheckResult } from "./result";
import type { TokenOutcome } from "./token";

/** Roles the Management API token must carry; ActivityFeed.ReadDlp only for DLP.All. */
export const REQUIRED_ROLE = "ActivityFeed.Read";
export const DLP_ROLE = "ActivityFeed.ReadDlp";

/** Judges the token's roles against the configured content types, with Graph as a cross-check. Pure. */
export function judgePermissions(
  config: VerifyConfig,
  token: TokenOutcome,
  graphRoles: Settled<string[]>,
): VerifyCheckResult {
  if (!token.token) {
    return result("permissions", "skip", "no token to inspect (check 1 failed)", null);
  }
  const required = [REQUIRED_ROLE, ...(config.contentTypes.includes("DLP.All") ? [DLP_ROLE] : [])];
  const tokenRoles = token.claims.roles ?? [];
  const missing = required.filter((role) => !tokenRoles.includes(role));
  const details: Record<string, unknown> = { required, tokenRoles };
  if (graphRoles.ok) details.graphRoles = graphRoles.value;
  else details.graphCrossCheck = `skipped: ${graphErrorText(graphRoles.error)}`;
  if (missing.length === 0) {
    const graphNote = graphRoles.ok
      ? required.every((role) => graphRoles.value.includes(role))
        ? "; Graph shows the same grants"
        : "; Graph lists fewer grants than the token (consent changed in the last hour?)"
      : "";
    return result(
      "permissions",
      "pass",
      `the token carries ${required.join(" and ")}${graphNote}`,
      null,
      details,
    );
  }
  const why = missing.includes(REQUIRED_ROLE)
    ? `the token lacks ${missing.join(" and ")}: admin consent was not granted`
    : `the token lacks ${DLP_ROLE}, needed for DLP.All: admin consent was not granted for it`;
  const graphNote =
    graphRoles.ok && missing.every((role) => graphRoles.value.includes(role))
      ? " (Graph shows the grant; it reaches tokens within minutes, re-run shortly)"
      : "";
  return result(
    "permissions",
    "fail",
    `${why}${graphNote}`,
    `a Privileged Role or Cloud Application Administrator opens ${adminConsentUrl(config)} and accepts${missing.includes(DLP_ROLE) && !missing.includes(REQUIRED_ROLE) ? ", or drop DLP.All from --content-types" : ""}`,
    details,
  );
}
