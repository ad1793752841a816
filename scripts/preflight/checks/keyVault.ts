/**
 * Check 6: no soft-deleted Key Vault holds the name the stack will use. Soft delete keeps a
 * vault's name for its retention period; creating a vault with that name fails until it is
 * recovered or purged (https://learn.microsoft.com/en-us/azure/key-vault/general/soft-delete-overview).
 * Listing: https://learn.microsoft.com/en-us/rest/api/keyvault/keyvault/vaults/list-deleted
 */
import type { ArmClients, Failure } from "../azure";
import { describeError } from "../azure";
import type { PreflightConfig } from "../inputs";
import { fail, pass, type Verdict, warn } from "../result";

/** A soft-deleted vault as the probe saw it. */
export interface SoftDeletedVault {
  name: string;
  location: string;
  purgeProtectionEnabled: boolean;
  scheduledPurgeDate: string | null;
}

/** What the deleted-vault probe found. */
export type KeyVaultProbe =
  | { kind: "listed"; vaults: SoftDeletedVault[] }
  | { kind: "error"; failure: Failure };

/** `GET /subscriptions/{sub}/providers/Microsoft.KeyVault/deletedVaults` (every location). */
export async function probeDeletedVaults(
  clients: ArmClients,
  abortSignal?: AbortSignal,
): Promise<KeyVaultProbe> {
  try {
    const vaults: SoftDeletedVault[] = [];
    for await (const vault of clients.keyVault.vaults.listDeleted({ abortSignal })) {
      vaults.push({
        name: vault.name ?? "",
        location: vault.properties?.location ?? "",
        purgeProtectionEnabled: vault.properties?.purgeProtectionEnabled === true,
        scheduledPurgeDate: vault.properties?.scheduledPurgeDate?.toISOString() ?? null,
      });
    }
    return { kind: "listed", vaults };
  } catch (error) {
    return { kind: "error", failure: describeError(error) };
  }
}

/** Judges whether the stack's vault name is free. Pure. */
export function judgeKeyVaultName(config: PreflightConfig, probe: KeyVaultProbe): Verdict {
  const name = config.keyVaultName;
  if (probe.kind === "error") {
    return fail(
      `cannot list soft-deleted Key Vaults: ${probe.failure.message}`,
      `az keyvault list-deleted --subscription ${config.subscriptionId} --query "[?name=='${name}']"`,
    );
  }
  const held = probe.vaults.find((v) => v.name.toLowerCase() === name.toLowerCase());
  if (!held) return pass(`${name} is not held by a soft-deleted vault`);
  const details = { keyVaultName: name, ...held };
  const recoverFix = config.stack
    ? `pulumi config set auditbridge:keyVaultRecoverSoftDeleted true --stack ${config.stack}`
    : "set stack config keyVaultRecoverSoftDeleted: true";
  if (config.keyVaultRecoverSoftDeleted) {
    if (held.location.toLowerCase() !== config.location) {
      return warn(
        `soft-deleted ${name} is in ${held.location}, not ${config.location}; recovering it keeps its location`,
        `recover it where it is, or purge it: az keyvault purge --name ${name} --location ${held.location}`,
        details,
      );
    }
    return pass(`soft-deleted ${name} will be recovered (keyVaultRecoverSoftDeleted)`, details);
  }
  if (held.purgeProtectionEnabled) {
    return fail(
      `a soft-deleted vault holds ${name} and has purge protection (it cannot be purged before ${held.scheduledPurgeDate ?? "its retention ends"})`,
      `recover it: ${recoverFix}`,
      details,
    );
  }
  return fail(
    `a soft-deleted vault holds ${name} (deleted, in ${held.location})`,
    `recover it: ${recoverFix}; or purge it: az keyvault purge --name ${name} --location ${held.location}`,
    details,
  );
}
