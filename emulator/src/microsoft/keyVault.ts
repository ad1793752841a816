/**
 * Azure Key Vault data-plane facts the emulator's secret endpoint follows, written down from
 * Microsoft's documentation.
 */

/**
 * Token audiences (the `resource` of the authentication challenge) of Key Vault in each Azure
 * cloud: https://learn.microsoft.com/en-us/azure/key-vault/general/authentication-requests-and-responses
 * and, for the sovereign suffixes, https://learn.microsoft.com/en-us/azure/azure-government/compare-azure-government-global-azure
 */
export const KEY_VAULT_AUDIENCES: readonly string[] = [
  "https://vault.azure.net",
  "https://vault.usgovcloudapi.net",
  "https://vault.azure.cn",
];

/**
 * `api-version` values the secrets API accepts: the numbered 7.x line
 * (https://learn.microsoft.com/en-us/rest/api/keyvault/secrets/get-secret/get-secret) and the
 * dated versions that replaced it in the current SDKs (`2025-07-01`,
 * https://learn.microsoft.com/en-us/rest/api/keyvault/secrets/get-secret/get-secret?view=rest-keyvault-secrets-2025-07-01).
 */
export const KEY_VAULT_API_VERSION = /^(?:7\.\d+(?:-preview)?|\d{4}-\d{2}-\d{2}(?:-preview)?)$/;

/**
 * The challenge a request without (or with a bad) bearer token gets: 401 with
 * `WWW-Authenticate: Bearer authorization="<login host>/<tenant>", resource="<audience>"`.
 * https://learn.microsoft.com/en-us/azure/key-vault/general/authentication-requests-and-responses#authentication
 */
export function keyVaultChallenge(
  authorityUrl: string,
  tenantId: string,
  resource: string,
): string {
  return `Bearer authorization="${authorityUrl}/${tenantId}", resource="${resource}"`;
}

/** A secret as Get Secret returns it (`SecretBundle`). */
export interface SecretBundle {
  value: string;
  /** `https://{vault}/secrets/{name}/{version}`. */
  id: string;
  contentType?: string;
  attributes: {
    enabled: boolean;
    /** Expiry, seconds since the epoch (UTC). */
    exp?: number;
    created: number;
    updated: number;
    recoveryLevel: string;
    recoverableDays: number;
  };
  tags?: Record<string, string>;
}

/**
 * Error bodies of the Key Vault data plane: `{ "error": { "code", "message", "innererror" } }`.
 * A missing secret is 404 `SecretNotFound`; a caller without a data-plane role on an RBAC vault
 * gets 403 `Forbidden` with inner error `ForbiddenByRbac`.
 * https://learn.microsoft.com/en-us/azure/key-vault/general/rest-error-codes and
 * https://learn.microsoft.com/en-us/azure/key-vault/general/troubleshooting-access-issues
 */
export function secretNotFound(name: string): { error: { code: string; message: string } } {
  return {
    error: {
      code: "SecretNotFound",
      message: `A secret with (name/id) ${name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
    },
  };
}

/** The 403 an RBAC vault answers when the caller has no role that allows `action`. */
export function forbiddenByRbac(
  callerObjectId: string,
  vaultName: string,
  action: string,
): { error: { code: string; message: string; innererror: { code: string } } } {
  return {
    error: {
      code: "Forbidden",
      message: `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: oid=${callerObjectId}\r\nAction: '${action}'\r\nResource: '/vaults/${vaultName}/secrets'\r\nAssignment: (not found)\r\nVault: ${vaultName}`,
      innererror: { code: "ForbiddenByRbac" },
    },
  };
}

/** Data action Get Secret needs on an RBAC vault (Key Vault Secrets User grants it). */
export const GET_SECRET_DATA_ACTION = "Microsoft.KeyVault/vaults/secrets/getSecret/action";

/** Recovery level of a vault with soft delete and purge protection (the default since 2020). */
export const DEFAULT_RECOVERY_LEVEL = "Recoverable";
/** Soft-delete retention days reported with it. */
export const DEFAULT_RECOVERABLE_DAYS = 90;
