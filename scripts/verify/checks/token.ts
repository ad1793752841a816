/** Check 1: the app gets a Management API token from Entra ID, issued by the right tenant. */
import { describeTokenError } from "../explain";
import type { VerifyConfig } from "../inputs";
import type { TokenProbe } from "../probes/token";
import { result, type VerifyCheckResult } from "./result";

/** Claims verify reads from an access token. */
export interface TokenClaims {
  aud?: string;
  tid?: string;
  appid?: string;
  roles?: string[];
  exp?: number;
}

/** Check 1's result, plus what later checks need from it. */
export interface TokenOutcome {
  result: VerifyCheckResult;
  /** The token when check 1 passed, else null (the checks that need it are skipped). */
  token: string | null;
  claims: TokenClaims;
  /** The AADSTS number of a refused request, e.g. "7000222" (check 3 reads it). */
  aadsts: string | null;
}

/**
 * Decodes a JWT's payload (base64url JSON) without verifying it: verify only reads the claims
 * the issuer put there. Returns an empty object for anything that is not a JWT.
 */
export function decodeJwtPayload(token: string): TokenClaims {
  const part = token.split(".")[1];
  if (!part) return {};
  try {
    const json = Buffer.from(part, "base64url").toString("utf8");
    const claims = JSON.parse(json) as unknown;
    return claims !== null && typeof claims === "object" ? (claims as TokenClaims) : {};
  } catch {
    return {};
  }
}

/** Judges the token probe. Pure. */
export function judgeToken(config: VerifyConfig, probe: TokenProbe, nowMs: number): TokenOutcome {
  if (!probe.ok) {
    const described = probe.aborted
      ? {
          reason: "the token request did not finish in time",
          fix: "re-run with a larger --timeout",
          aadsts: null,
        }
      : describeTokenError(probe.error, config, probe.discoveryAnswer);
    return {
      result: result("token", "fail", described.reason, described.fix, {
        aadsts: described.aadsts,
        credential: config.appCredential.kind,
      }),
      token: null,
      claims: {},
      aadsts: described.aadsts,
    };
  }
  const access = probe.token;
  if (!access) {
    return {
      result: result("token", "fail", "no token was returned", "check the app registration"),
      token: null,
      claims: {},
      aadsts: null,
    };
  }
  const claims = decodeJwtPayload(access.token);
  const details = {
    credential: config.appCredential.kind,
    audience: claims.aud ?? null,
    tenantId: claims.tid ?? null,
    roles: claims.roles ?? [],
    expiresOn: new Date(access.expiresOnTimestamp).toISOString(),
  };
  if (claims.tid && claims.tid.toLowerCase() !== config.tenantId.toLowerCase()) {
    return {
      result: result(
        "token",
        "fail",
        `the token was issued by tenant ${claims.tid}, not ${config.tenantId} (the API would answer AF20010)`,
        "pass the Microsoft 365 tenant's id as --tenant-id",
        details,
      ),
      token: null,
      claims,
      aadsts: null,
    };
  }
  const minutes = Math.round((access.expiresOnTimestamp - nowMs) / 60_000);
  return {
    result: result(
      "token",
      "pass",
      `token for ${claims.aud ?? config.managementAudience} issued with the app's ${config.appCredential.kind === "secret" ? "client secret" : "certificate"}, valid ${minutes} more min`,
      null,
      details,
    ),
    token: access.token,
    claims,
    aadsts: null,
  };
}
