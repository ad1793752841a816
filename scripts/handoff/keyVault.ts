/**
 * `--reveal`: reads the client secret once from the stack's Key Vault with the caller's own
 * credential (the Azure SDK's SecretClient and DefaultAzureCredential), and turns every refusal
 * into one line that names the fix. The value is wrapped in {@link Secret} at once.
 * https://learn.microsoft.com/en-us/rest/api/keyvault/secrets/get-secret/get-secret
 */
import { DefaultAzureCredential, type TokenCredential } from "@azure/identity";
import { SecretClient } from "@azure/keyvault-secrets";
import { AuditBridgeError } from "../../domain/errors";
import { Secret } from "../common/secret";
import type { HandoffConfig } from "./inputs";

/** Why reading the secret failed; `code` says which fix the message names. */
export type SecretReadCode = "forbidden" | "not-found" | "sign-in" | "disabled" | "failed";

/** The secret could not be read; the message is one line naming the fix, never the value. */
export class SecretReadError extends AuditBridgeError<SecretReadCode> {
  override readonly name: string = "SecretReadError";
}

/** Type guard for {@link SecretReadError}. */
export function isSecretReadError(error: unknown): error is SecretReadError {
  return error instanceof SecretReadError;
}

/** Vault hosts Microsoft operates; the SDK checks the challenge resource only against these. */
const MICROSOFT_VAULT_SUFFIXES = [
  ".vault.azure.net",
  ".vault.usgovcloudapi.net",
  ".vault.azure.cn",
  ".managedhsm.azure.net",
];

/** The caller's own credential, with instance discovery off for a non-Microsoft login host. */
export function callerCredential(config: HandoffConfig): TokenCredential {
  return new DefaultAzureCredential({
    authorityHost: config.authorityHost,
    disableInstanceDiscovery: config.disableInstanceDiscovery,
    // The vault's tenant (the Azure subscription's) may differ from the Microsoft 365 tenant;
    // the vault's challenge names the tenant to sign in to.
    additionallyAllowedTenants: ["*"],
  });
}

/** Options for {@link readClientSecret}. */
export interface ReadSecretOptions {
  credential?: TokenCredential;
  abortSignal?: AbortSignal;
}

interface RestLikeError {
  name?: string;
  statusCode?: number;
  code?: string;
}

/** Reads the secret once and returns it wrapped; throws {@link SecretReadError}. */
export async function readClientSecret(
  config: HandoffConfig,
  options: ReadSecretOptions = {},
): Promise<{ secret: Secret; expiresOn: Date | null }> {
  const { vaultUri, vaultName, secretName } = config.secret;
  if (!vaultUri || !secretName) {
    throw new SecretReadError("the Key Vault or secret name is unknown", { code: "not-found" });
  }
  const host = new URL(vaultUri).hostname.toLowerCase();
  const client = new SecretClient(vaultUri, options.credential ?? callerCredential(config), {
    // Only a vault outside Microsoft's domains (a private endpoint alias, the emulator) skips the
    // check that the challenge's resource matches the vault's host.
    disableChallengeResourceVerification: !MICROSOFT_VAULT_SUFFIXES.some((suffix) =>
      host.endsWith(suffix),
    ),
    retryOptions: { maxRetries: 2 },
  });
  const where = `secret ${secretName} in Key Vault ${vaultName ?? host}`;
  try {
    const bundle = await client.getSecret(secretName, { abortSignal: options.abortSignal });
    if (bundle.properties.enabled === false || bundle.value === undefined) {
      throw new SecretReadError(
        `${where} is disabled or has no value: enable it, or run pulumi up to rotate the secret`,
        { code: "disabled" },
      );
    }
    return { secret: new Secret(bundle.value), expiresOn: bundle.properties.expiresOn ?? null };
  } catch (error) {
    if (error instanceof SecretReadError) throw error;
    throw describe(error, where, vaultName ?? host, secretName);
  }
}

/** Maps an SDK or credential error to one line; never quotes the error's own message. */
function describe(
  error: unknown,
  where: string,
  vault: string,
  secretName: string,
): SecretReadError {
  const e = (error ?? {}) as RestLikeError;
  if (e.statusCode === 403) {
    return new SecretReadError(
      `Key Vault refused to read ${where} (403 ${e.code ?? "Forbidden"}): give your identity the Key Vault Secrets User role on the vault or the secret (az role assignment create --role "Key Vault Secrets User" --assignee <you> --scope <vault id>), wait a few minutes, and retry`,
      { code: "forbidden", cause: error },
    );
  }
  if (e.statusCode === 404) {
    return new SecretReadError(
      `${where} was not found (404 ${e.code ?? "NotFound"}): check --secret-name ${secretName} and --key-vault-name ${vault}, or the stack's credentialSecretName output`,
      { code: "not-found", cause: error },
    );
  }
  if (
    e.statusCode === 401 ||
    e.name === "CredentialUnavailableError" ||
    e.name === "AuthenticationError" ||
    e.name === "AggregateAuthenticationError"
  ) {
    return new SecretReadError(
      `could not sign in to read ${where}: run az login (or set AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and AZURE_TENANT_ID) as an identity with Key Vault Secrets User on the vault`,
      { code: "sign-in", cause: error },
    );
  }
  return new SecretReadError(
    `reading ${where} failed (${e.code ?? e.name ?? "error"}${e.statusCode ? `, HTTP ${e.statusCode}` : ""}): check the vault URI and your network, then retry`,
    { code: "failed", cause: error },
  );
}
