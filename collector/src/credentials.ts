/**
 * Token credentials, all from `@azure/identity`: the app credential for the Management Activity
 * API (client secret, certificate, or keyless: a user-assigned managed identity used as a
 * federated credential), and the credential for Azure resources (Logs Ingestion, blob state).
 * Every credential the collector uses is wrapped by {@link countTokenRefreshes}.
 */
import {
  type AccessToken,
  ClientAssertionCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  type GetTokenOptions,
  ManagedIdentityCredential,
  type TokenCredential,
} from "@azure/identity";
import {
  type EntraErrorKind,
  entraCodeMeaning,
  entraErrorCode,
  isAuthorityResolutionFailure,
} from "../../domain/apiErrors";
import { isMicrosoftAuthorityHost, scopeFor } from "../../domain/clouds";
import type { CollectorConfig } from "./config";
import type { CollectorMetrics } from "./metrics";

/** How an app registration signs in; the collector's and verify's settings both map to it. */
export type ClientCredentialSpec =
  | { kind: "secret"; clientSecret: string }
  | { kind: "certificate"; certificatePath: string; certificatePassword?: string }
  | {
      kind: "federated";
      /** Client id of the user-assigned managed identity whose token is the client assertion. */
      managedIdentityClientId: string;
      /** The cloud's token-exchange audience, e.g. `api://AzureADTokenExchange`. */
      tokenExchangeAudience: string;
    };

/** Options for {@link createClientCredential}. */
export interface ClientCredentialOptions {
  tenantId: string;
  clientId: string;
  /** Entra ID login host, e.g. `https://login.microsoftonline.com`. */
  authorityHost: string;
  credential: ClientCredentialSpec;
  /** Counts the managed identity's exchange tokens (keyless mode). */
  metrics?: Pick<CollectorMetrics, "tokenRefreshes">;
}

/**
 * The one factory of app-registration credentials, used by the collector and by `verify`:
 * client secret, certificate, or keyless (a managed identity's token presented as the client
 * assertion; MSAL caches both tokens, so this is cheap per call). Instance discovery is off for
 * a login host that is not Microsoft's.
 */
export function createClientCredential(options: ClientCredentialOptions): TokenCredential {
  const { tenantId, clientId, authorityHost, credential, metrics } = options;
  const authority = {
    authorityHost,
    // Instance discovery asks a Microsoft host about the authority; a private or emulated login
    // host is unknown there, so discovery (and authority validation) must be skipped.
    disableInstanceDiscovery: !isMicrosoftAuthorityHost(authorityHost),
  };
  switch (credential.kind) {
    case "secret":
      return new ClientSecretCredential(tenantId, clientId, credential.clientSecret, authority);
    case "certificate":
      return new ClientCertificateCredential(
        tenantId,
        clientId,
        {
          certificatePath: credential.certificatePath,
          ...(credential.certificatePassword !== undefined
            ? { certificatePassword: credential.certificatePassword }
            : {}),
        },
        authority,
      );
    case "federated": {
      const identity = new ManagedIdentityCredential({
        clientId: credential.managedIdentityClientId,
      });
      // The exchange token is counted too: a stuck identity endpoint shows in the metrics.
      const managedIdentity = metrics ? countTokenRefreshes(identity, metrics) : identity;
      const exchangeScope = scopeFor(credential.tokenExchangeAudience);
      return new ClientAssertionCredential(
        tenantId,
        clientId,
        async () => {
          const token = await managedIdentity.getToken(exchangeScope);
          if (!token) {
            throw new Error(
              "ManagedIdentityCredential returned no token for the federated credential exchange",
            );
          }
          return token.token;
        },
        authority,
      );
    }
  }
}

/** The credential the app registration signs in with, in the Microsoft 365 tenant. */
export function createAppCredential(
  config: CollectorConfig,
  metrics?: Pick<CollectorMetrics, "tokenRefreshes">,
): TokenCredential {
  const { credential } = config;
  return createClientCredential({
    tenantId: config.tenantId,
    clientId: config.clientId,
    authorityHost: config.cloud.authorityHost,
    credential:
      credential.kind === "federated"
        ? { ...credential, tokenExchangeAudience: config.cloud.tokenExchangeAudience }
        : credential,
    metrics,
  });
}

/**
 * The credential for Azure resources in the collector's own subscription (the Logs Ingestion
 * data collection rule, the blob state container): the managed identity when
 * `AUDIT_MANAGED_IDENTITY_CLIENT_ID` is set (in Azure), otherwise the app credential (which then
 * needs the same role assignments).
 */
export function createAzureCredential(
  config: CollectorConfig,
  appCredential: TokenCredential,
): TokenCredential {
  if (config.azureManagedIdentityClientId === undefined) return appCredential;
  return new ManagedIdentityCredential({ clientId: config.azureManagedIdentityClientId });
}

/** `["https://manage.office.com/.default"]` → `https://manage.office.com` (the metric label). */
export function audienceOfScopes(scopes: string | string[]): string {
  const first = Array.isArray(scopes) ? (scopes[0] ?? "") : scopes;
  return first.replace(/\/\.default$/, "");
}

/**
 * Wraps a credential so every newly obtained access token is counted in
 * `auditbridge_token_refreshes_total{audience}`. Tokens served again from a cache are not
 * counted: a token is new when it differs from the last one seen for that audience.
 */
export function countTokenRefreshes(
  credential: TokenCredential,
  metrics: Pick<CollectorMetrics, "tokenRefreshes">,
): TokenCredential {
  const lastExpiry = new Map<string, { token: string; expiresOnTimestamp: number }>();
  return {
    async getToken(
      scopes: string | string[],
      options?: GetTokenOptions,
    ): Promise<AccessToken | null> {
      const token = await credential.getToken(scopes, options);
      if (token) {
        const audience = audienceOfScopes(scopes);
        const last = lastExpiry.get(audience);
        if (
          !last ||
          last.token !== token.token ||
          last.expiresOnTimestamp !== token.expiresOnTimestamp
        ) {
          lastExpiry.set(audience, {
            token: token.token,
            expiresOnTimestamp: token.expiresOnTimestamp,
          });
          metrics.tokenRefreshes.inc({ audience });
        }
      }
      return token;
    },
  };
}

/** The collector's next step for each family of configuration token errors. */
const COLLECTOR_TOKEN_FIXES: Readonly<Record<EntraErrorKind, string>> = {
  "unknown-tenant": "check AZURE_TENANT_ID",
  "malformed-tenant": "check AZURE_TENANT_ID",
  "unknown-app": "check AZURE_CLIENT_ID and admin consent",
  "wrong-secret": "check AZURE_CLIENT_SECRET",
  "expired-secret": "rotate it (pulumi up) and update AZURE_CLIENT_SECRET",
  "certificate-refused": "check AZURE_CLIENT_CERTIFICATE_PATH",
  "no-federated-match":
    "check AUDIT_FEDERATED_IDENTITY_CLIENT_ID and the app's federated credential",
};

/**
 * One line describing why a token could not be had, with the next step, and without anything
 * secret: the AADSTS code carries the cause; its meaning comes from `domain/apiErrors.ts`.
 */
export function describeTokenError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const code = entraErrorCode(text);
  const known = entraCodeMeaning(code);
  if (code && known) {
    return `token request refused (${code}): ${known.meaning}: ${COLLECTOR_TOKEN_FIXES[known.kind]}`;
  }
  if (isAuthorityResolutionFailure(text)) {
    return "the login authority has no configuration for this tenant: check AZURE_TENANT_ID (unknown tenant?), O365_CLOUD / AZURE_AUTHORITY_HOST and network access to the login host";
  }
  if (/ManagedIdentityCredential|IDENTITY_ENDPOINT|managed identity/i.test(text)) {
    return "the managed identity is unavailable: run in Azure with the user-assigned identity attached, or use a secret or certificate";
  }
  const firstLine = text.split(/\r?\n/)[0]!.slice(0, 300);
  return code
    ? `token request refused (${code}): ${firstLine}`
    : `token request failed: ${firstLine}`;
}

/** True when a token error is a configuration problem (wrong tenant, app, secret, certificate). */
export function isFatalTokenError(error: unknown): boolean {
  const text = error instanceof Error ? error.message : String(error);
  // An unreachable login host also reads as an authority resolution failure; treating it as a
  // configuration error only means it is retried slowly, with the cause in /healthz.
  if (isAuthorityResolutionFailure(text)) return true;
  return entraCodeMeaning(entraErrorCode(text)) !== undefined;
}
