/**
 * Check 10: the Office 365 Management APIs service principal (appId
 * c5393580-f805-4401-95e8-94b7a6ef2fc2) exists in the Microsoft 365 tenant; admin consent grants
 * its app roles, so without it `pulumi up` cannot grant ActivityFeed.Read.
 * https://learn.microsoft.com/en-us/graph/api/serviceprincipal-list
 */
import type { Client } from "@microsoft/microsoft-graph-client";
import { describeError, type Failure } from "../azure";
import type { PreflightConfig } from "../inputs";
import { fail, pass, skip, type Verdict } from "../result";
import type { TokenOutcome } from "./signIn";

/** appId of the Office 365 Management APIs. */
export const O365_MANAGEMENT_APP_ID = "c5393580-f805-4401-95e8-94b7a6ef2fc2";

/** What the probe found. */
export type O365ServicePrincipalProbe =
  | { kind: "found"; id: string }
  | { kind: "missing" }
  | { kind: "error"; failure: Failure }
  | { kind: "no-token" };

/** `GET /servicePrincipals?$filter=appId eq 'c5393580-…'`. */
export async function probeO365ServicePrincipal(
  graph: Client,
  graphToken: TokenOutcome,
  abortSignal?: AbortSignal,
): Promise<O365ServicePrincipalProbe> {
  if (!graphToken.ok) return { kind: "no-token" };
  try {
    const request = graph
      .api("/servicePrincipals")
      .filter(`appId eq '${O365_MANAGEMENT_APP_ID}'`)
      .select("id,appId,displayName");
    if (abortSignal) request.option("signal", abortSignal);
    const body = (await request.get()) as { value?: Array<{ id?: string }> };
    const found = body.value?.[0];
    return found?.id ? { kind: "found", id: found.id } : { kind: "missing" };
  } catch (error) {
    return { kind: "error", failure: describeError(error) };
  }
}

/** Judges the probe. Pure. */
export function judgeO365ServicePrincipal(
  config: PreflightConfig,
  probe: O365ServicePrincipalProbe,
): Verdict {
  switch (probe.kind) {
    case "no-token":
      return skip("no Graph token for the Microsoft 365 tenant (see the sign-in check)");
    case "found":
      return pass(`present in tenant ${config.tenantId}`);
    case "missing":
      return fail(
        `the Office 365 Management APIs service principal (${O365_MANAGEMENT_APP_ID}) is not in tenant ${config.tenantId}; is it the Microsoft 365 tenant?`,
        `check --tenant-id, then create it: az ad sp create --id ${O365_MANAGEMENT_APP_ID} (signed in to tenant ${config.tenantId} as an Application Administrator)`,
      );
    case "error":
      return fail(
        `cannot look up the Office 365 Management APIs service principal: ${probe.failure.message}`,
        `check it by hand: az ad sp show --id ${O365_MANAGEMENT_APP_ID} (tenant ${config.tenantId})`,
      );
  }
}
