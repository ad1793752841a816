/**
 * Check 1: the caller can sign in to the Azure subscription's tenant (an ARM token) and to the
 * Microsoft 365 tenant (a Graph token). For a cross-tenant setup (azureTenantId differs) these
 * are two tenants, and `pulumi up` needs both.
 */
import type { TokenCredential } from "@azure/identity";
import { scopeFor } from "../../../domain/clouds";
import { type CallerClaims, describeError, type Failure, isAppOnly, tokenClaims } from "../azure";
import type { PreflightConfig } from "../inputs";
import { fail, pass, type Verdict } from "../result";

/** One token request's outcome: the token's (non-secret) claims, or why it failed. */
export type TokenOutcome = { ok: true; claims: CallerClaims } | { ok: false; failure: Failure };

/** What the sign-in probe found. */
export interface SignInProbe {
  arm: TokenOutcome;
  graph: TokenOutcome;
}

/** Requests an ARM token for the Azure tenant and a Graph token for the Microsoft 365 tenant. */
export async function probeSignIn(
  config: PreflightConfig,
  credential: TokenCredential,
  abortSignal?: AbortSignal,
): Promise<SignInProbe> {
  const request = async (scope: string, tenantId: string): Promise<TokenOutcome> => {
    try {
      const token = await credential.getToken(scope, { tenantId, abortSignal });
      if (!token) return { ok: false, failure: { status: null, code: null, message: "no token" } };
      return { ok: true, claims: tokenClaims(token) };
    } catch (error) {
      return { ok: false, failure: describeError(error) };
    }
  };
  const [arm, graph] = await Promise.all([
    request(config.armScope, config.azureTenantId),
    request(scopeFor(config.graphAudience), config.tenantId),
  ]);
  return { arm, graph };
}

/** Who the caller is, for a reason line: a user's UPN or a service principal's app id. */
export function describeCaller(claims: CallerClaims): string {
  if (isAppOnly(claims)) return `service principal ${claims.appid ?? claims.oid ?? "(unknown)"}`;
  return `user ${claims.upn ?? claims.oid ?? "(unknown)"}`;
}

/** Judges the sign-in probe. Pure. */
export function judgeSignIn(config: PreflightConfig, probe: SignInProbe): Verdict {
  const crossTenant = config.azureTenantId !== config.tenantId;
  const failures: string[] = [];
  if (!probe.arm.ok) {
    failures.push(`Azure tenant ${config.azureTenantId}: ${probe.arm.failure.message}`);
  }
  if (!probe.graph.ok) {
    failures.push(`Microsoft 365 tenant ${config.tenantId}: ${probe.graph.failure.message}`);
  }
  if (failures.length > 0) {
    const tenants = crossTenant ? [config.tenantId, config.azureTenantId] : [config.tenantId];
    const fix = crossTenant
      ? `sign in to both tenants: ${tenants.map((t) => `az login --tenant ${t}`).join(" and ")} ` +
        "(a person needs an account or guest account in each; a CI service principal needs a multitenant app with a service principal in each)"
      : `sign in: az login --tenant ${config.tenantId} (or set AZURE_CLIENT_ID with AZURE_CLIENT_SECRET/AZURE_CLIENT_CERTIFICATE_PATH for a service principal)`;
    return fail(`cannot sign in to ${failures.join("; ")}`, fix);
  }
  const claims = (probe.graph as { claims: CallerClaims }).claims;
  return pass(
    crossTenant
      ? `${describeCaller(claims)} signed in to both tenants (${config.tenantId} and ${config.azureTenantId})`
      : `${describeCaller(claims)} signed in to tenant ${config.tenantId}`,
  );
}
