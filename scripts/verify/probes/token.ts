/**
 * Probe of check 1: the app's own token for the Management Activity API, the way the collector
 * gets it, plus Entra's hidden answer when MSAL fails before the token endpoint.
 */
import type { AccessToken, TokenCredential } from "@azure/identity";
import { entraErrorCode, isAuthorityResolutionFailure } from "../../../domain/apiErrors";
import { scopeFor } from "../../../domain/clouds";
import type { VerifyConfig } from "../inputs";

/** What the token request gave: a token, or the error and Entra's discovery answer. */
export type TokenProbe =
  | { ok: true; token: AccessToken | null }
  | { ok: false; error: unknown; discoveryAnswer: string; aborted: boolean };

/** Options of the token probe. */
export interface ProbeTokenOptions {
  abortSignal?: AbortSignal;
}

/** Requests a Management API token with the app's credential; never throws. */
export async function probeToken(
  config: VerifyConfig,
  credential: TokenCredential,
  options: ProbeTokenOptions = {},
): Promise<TokenProbe> {
  const { abortSignal } = options;
  try {
    const token = await credential.getToken(scopeFor(config.managementAudience), { abortSignal });
    return { ok: true, token };
  } catch (error) {
    if (abortSignal?.aborted) return { ok: false, error, discoveryAnswer: "", aborted: true };
    return {
      ok: false,
      error,
      discoveryAnswer: await discoveryError(config, error, abortSignal),
      aborted: false,
    };
  }
}

/**
 * When MSAL fails before reaching the token endpoint (`endpoints_resolution_error`), it hides
 * Entra's answer. The OIDC discovery document carries it (AADSTS90002 for an unknown tenant),
 * so ask for it directly and return the error text, or "" when discovery works.
 */
async function discoveryError(
  config: VerifyConfig,
  error: unknown,
  abortSignal: AbortSignal | undefined,
): Promise<string> {
  const message = error instanceof Error ? error.message : "";
  if (
    entraErrorCode(message) !== undefined ||
    !(isAuthorityResolutionFailure(message) || /authority|metadata/i.test(message))
  ) {
    return "";
  }
  try {
    const response = await fetch(
      `${config.authorityHost}/${encodeURIComponent(config.tenantId)}/v2.0/.well-known/openid-configuration`,
      { signal: abortSignal },
    );
    return response.ok ? "" : (await response.text()).slice(0, 2000);
  } catch {
    return "";
  }
}
