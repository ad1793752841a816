/**
 * Check 7: an existing workspace (`workspaceResourceId`) is reachable and the caller can create
 * the custom table in it (Microsoft.OperationalInsights/workspaces/tables/write).
 */
import type { TokenCredential } from "@azure/identity";
import type { PreflightConfig } from "../inputs";
import { missingActions } from "../permissions";
import { fail, pass, skip, type Verdict } from "../result";
import { type ExistingResourceProbe, probeExistingResource } from "./existingResource";
import { roleAssignmentCommand } from "./resourceGroup";

/** ARM api-version for reading a workspace. */
export const WORKSPACE_API_VERSION = "2023-09-01";
/** Actions the stack needs on an existing workspace: its table (and reading it). */
export const WORKSPACE_ACTIONS = [
  "Microsoft.OperationalInsights/workspaces/read",
  "Microsoft.OperationalInsights/workspaces/tables/write",
] as const;

/** Reads the workspace and the caller's permissions on it; null when the stack creates one. */
export function probeWorkspace(
  config: PreflightConfig,
  credential: TokenCredential,
  abortSignal?: AbortSignal,
): Promise<ExistingResourceProbe> | null {
  if (!config.workspaceResourceId) return null;
  return probeExistingResource(
    config,
    credential,
    config.workspaceResourceId,
    WORKSPACE_API_VERSION,
    abortSignal,
  );
}

/** Judges the existing workspace. Pure. */
export function judgeWorkspace(
  config: PreflightConfig,
  probe: ExistingResourceProbe | null,
  callerId: string,
): Verdict {
  const id = config.workspaceResourceId;
  if (!id || !probe) return skip("no workspaceResourceId: the stack creates a new workspace");
  const setId = config.stack
    ? `pulumi config set auditbridge:workspaceResourceId <id> --stack ${config.stack}`
    : "--workspace-resource-id <id>";
  const grant = roleAssignmentCommand(callerId, "Log Analytics Contributor", id);
  switch (probe.kind) {
    case "missing":
      return fail(
        `workspace ${id} does not exist`,
        `check the id (az monitor log-analytics workspace list --query "[].id"), then ${setId}; or unset it to create a new workspace`,
      );
    case "forbidden":
      return fail(
        `you cannot read workspace ${id} (${probe.failure.message})`,
        `ask its owner to run: ${grant}`,
      );
    case "error":
      return fail(
        `cannot read workspace ${id}: ${probe.failure.message}`,
        `ask its owner to run: ${grant}`,
      );
    case "found": {
      const missing = missingActions(probe.permissions, WORKSPACE_ACTIONS);
      if (missing.length > 0) {
        return fail(
          `you cannot create a table in the workspace (missing ${missing.join(", ")})`,
          `ask its owner to run: ${grant}`,
          { missingActions: missing },
        );
      }
      return pass(
        `reachable${probe.location ? ` (${probe.location})` : ""}; you can create the table`,
      );
    }
  }
}
