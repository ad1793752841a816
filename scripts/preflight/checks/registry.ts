/**
 * Check 8: the container registry (`collectorRegistryResourceId`) exists and the caller can grant
 * the collector's identity AcrPull on it (Microsoft.Authorization/roleAssignments/write there).
 */
import type { TokenCredential } from "@azure/identity";
import type { PreflightConfig } from "../inputs";
import { missingActions, ROLE_ASSIGNMENT_WRITE } from "../permissions";
import { fail, pass, skip, type Verdict } from "../result";
import { type ExistingResourceProbe, probeExistingResource } from "./existingResource";
import { roleAssignmentCommand } from "./resourceGroup";

/** ARM api-version for reading a registry. */
export const REGISTRY_API_VERSION = "2023-07-01";

/** Reads the registry and the caller's permissions on it; null when no registry is configured. */
export function probeRegistry(
  config: PreflightConfig,
  credential: TokenCredential,
  abortSignal?: AbortSignal,
): Promise<ExistingResourceProbe> | null {
  if (!config.registryResourceId) return null;
  return probeExistingResource(
    config,
    credential,
    config.registryResourceId,
    REGISTRY_API_VERSION,
    abortSignal,
  );
}

/** Judges the registry. Pure. */
export function judgeRegistry(
  config: PreflightConfig,
  probe: ExistingResourceProbe | null,
  callerId: string,
): Verdict {
  const id = config.registryResourceId;
  if (!id || !probe) {
    return skip("no collectorRegistryResourceId: the image is pulled without a managed identity");
  }
  const grant = roleAssignmentCommand(callerId, "User Access Administrator", id);
  switch (probe.kind) {
    case "missing":
      return fail(
        `registry ${id} does not exist`,
        `check the id (az acr list --query "[].id"), then ${config.stack ? `pulumi config set auditbridge:collectorRegistryResourceId <id> --stack ${config.stack}` : "--registry-resource-id <id>"}`,
      );
    case "forbidden":
      return fail(
        `you cannot read registry ${id} (${probe.failure.message})`,
        `ask its owner to run: ${grant}`,
      );
    case "error":
      return fail(
        `cannot read registry ${id}: ${probe.failure.message}`,
        `ask its owner to run: ${grant}`,
      );
    case "found": {
      const missing = missingActions(probe.permissions, [ROLE_ASSIGNMENT_WRITE]);
      if (missing.length > 0) {
        return fail(
          `you cannot grant AcrPull on the registry (missing ${ROLE_ASSIGNMENT_WRITE})`,
          `ask its owner to run: ${grant} (or to grant AcrPull to the collector's identity after deploy)`,
          { missingActions: missing },
        );
      }
      return pass("reachable; you can grant AcrPull on it");
    }
  }
}
