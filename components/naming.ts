/**
 * Deterministic names. Azure wants GUIDs for role assignment names and globally unique names for
 * Key Vaults and storage accounts; deriving them from stable inputs (rather than random values)
 * makes a re-run after lost state, or a second engineer's run, address the same objects instead
 * of creating duplicates that Azure then refuses ("RoleAssignmentExists").
 */
import { createHash } from "node:crypto";

/** Namespace of AuditBridge's name-based GUIDs (a fixed random GUID; never change it). */
export const AUDITBRIDGE_GUID_NAMESPACE = "6f1c2a4e-93d8-4b57-a0e2-5c7d9b13f8a6";

/**
 * RFC 4122 §4.3 name-based GUID, version 5 (SHA-1). Written here with node:crypto because it is
 * a dozen lines and the project has no uuid dependency; the RFC's test vectors pin it down.
 */
export function uuidV5(name: string, namespace: string = AUDITBRIDGE_GUID_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ""), "hex");
  if (ns.length !== 16) throw new Error(`uuidV5 namespace must be a GUID (got ${namespace})`);
  const hash = createHash("sha1").update(ns).update(name, "utf8").digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Role assignment name for (scope, role, principal): the same triple always yields the same GUID,
 * so the PUT is idempotent.
 */
export function roleAssignmentName(
  scope: string,
  roleDefinitionGuid: string,
  principalId: string,
): string {
  return uuidV5(
    `${scope.toLowerCase()}|${roleDefinitionGuid.toLowerCase()}|${principalId.toLowerCase()}`,
  );
}

/** Six hex characters that make global names unique per tenant and resource group. */
export function uniqueSuffix(...parts: string[]): string {
  return createHash("sha256")
    .update(parts.map((p) => p.toLowerCase()).join("|"))
    .digest("hex")
    .slice(0, 6);
}

/** Azure resource names for one tenant's pipeline, all derived from the prefix and a suffix. */
export interface ResourceNames {
  workspace: string;
  dataCollectionEndpoint: string;
  dataCollectionRule: string;
  identity: string;
  keyVault: string;
  storageAccount: string;
  checkpointContainer: string;
  managedEnvironment: string;
  containerApp: string;
  /** The scheduled collector (collectorMode scheduled): lowercase, at most 32 characters. */
  collectorJob: string;
}

/**
 * Names from a validated prefix (2–12 lowercase letters/digits) and a 6-hex suffix. Key Vault
 * names are at most 24 characters and storage account names 24 lowercase letters/digits, both
 * globally unique, hence the suffix; the rest only need to be unique in the resource group.
 */
export function resourceNames(prefix: string, suffix: string): ResourceNames {
  return {
    workspace: `log-${prefix}`,
    dataCollectionEndpoint: `dce-${prefix}`,
    dataCollectionRule: `dcr-${prefix}`,
    identity: `id-${prefix}-collector`,
    keyVault: `kv-${prefix}-${suffix}`,
    storageAccount: `st${prefix}${suffix}`,
    checkpointContainer: "checkpoints",
    managedEnvironment: `cae-${prefix}`,
    containerApp: `ca-${prefix}-collector`,
    collectorJob: `caj-${prefix}-collector`,
  };
}

/** Which Azure resource a name is for: a key of {@link ResourceNames}. */
export type ResourceKind = keyof ResourceNames;

/**
 * A consumer's naming rule: given the kind of resource and the name AuditBridge would use,
 * returns the name to use instead (or the default unchanged).
 */
export type NamingHook = (kind: ResourceKind, defaultName: string) => string;

/**
 * Default names passed through a naming hook, each result checked: a hook returning anything
 * but a non-empty string without surrounding spaces fails here, naming the kind, before any
 * resource exists. Azure's own per-type rules are left to Azure.
 */
export function applyNaming(names: ResourceNames, hook: NamingHook | undefined): ResourceNames {
  if (!hook) return names;
  const renamed = { ...names };
  for (const kind of Object.keys(names) as ResourceKind[]) {
    const chosen: unknown = hook(kind, names[kind]);
    if (typeof chosen !== "string" || chosen.trim() === "" || chosen.trim() !== chosen) {
      throw new Error(
        `naming hook returned ${JSON.stringify(chosen)} for ${kind}: it must return a non-empty name without surrounding spaces`,
      );
    }
    renamed[kind] = chosen;
  }
  return renamed;
}
