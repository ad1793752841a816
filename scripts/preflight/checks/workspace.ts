/**
 * Check 7: an existing workspace (`workspaceResourceId`) is reachable and the caller can use it.
 * With the logs-ingestion sink the stack creates the custom table in it
 * (Microsoft.OperationalInsights/workspaces/tables/write); either way the Container Apps
 * environment's diagnostic setting sends its logs there, which needs read and
 * `workspaces/sharedKeys/action` on the workspace
 * (https://learn.microsoft.com/azure/azure-monitor/logs/manage-access).
 * Skipped with collector none, and without logs-ingestion when no workspace is given (scope.ts).
 */
import type { TokenCredential } from "@azure/identity";
import type { PreflightConfig } from "../inputs";
import { missingActions } from "../permissions";
import { fail, pass, skip, type Verdict } from "../result";
import { deploysLogsIngestion, describeSinks, workspaceContentActions } from "../scope";
import { type ExistingResourceProbe, probeExistingResource } from "./existingResource";
import { roleAssignmentCommand } from "./resourceGroup";

/** ARM api-version for reading a workspace. */
export const WORKSPACE_API_VERSION = "2023-09-01";
/** Actions a diagnostic setting needs on the workspace it sends to. */
export const WORKSPACE_LOG_DESTINATION_ACTIONS = [
  "Microsoft.OperationalInsights/workspaces/read",
  "Microsoft.OperationalInsights/workspaces/sharedKeys/action",
] as const;
/** Actions the stack needs on an existing audit workspace: its table, and the environment's logs. */
export const WORKSPACE_ACTIONS = [
  "Microsoft.OperationalInsights/workspaces/read",
  "Microsoft.OperationalInsights/workspaces/tables/write",
  "Microsoft.OperationalInsights/workspaces/sharedKeys/action",
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
      const where = probe.location ? ` (${probe.location})` : "";
      if (!deploysLogsIngestion(config)) {
        // No audit table: the workspace only receives the Container Apps environment's logs.
        const missing = missingActions(probe.permissions, WORKSPACE_LOG_DESTINATION_ACTIONS);
        if (missing.length > 0) {
          return fail(
            `you cannot send the Container Apps environment's logs to the workspace (missing ${missing.join(", ")})`,
            `ask its owner to run: ${grant}`,
            { missingActions: missing },
          );
        }
        return pass(
          `reachable${where}; it receives the Container Apps environment's logs (${describeSinks(config)}: no audit table)`,
        );
      }
      const missing = missingActions(probe.permissions, WORKSPACE_ACTIONS);
      if (missing.length > 0) {
        return fail(
          `you cannot create a table in the workspace (missing ${missing.join(", ")})`,
          `ask its owner to run: ${grant}`,
          { missingActions: missing },
        );
      }
      // The function, and with Sentinel its onboarding, rules, parser, hunting queries and workbook.
      const content = missingActions(probe.permissions, workspaceContentActions(config));
      if (content.length > 0) {
        // Log Analytics Contributor covers the saved searches; Sentinel's resources and the
        // workbook need Microsoft Sentinel Contributor.
        const roles = [
          ...(content.some((action) => action.includes("/savedSearches/")) ? [grant] : []),
          ...(content.some((action) => !action.includes("/savedSearches/"))
            ? [roleAssignmentCommand(callerId, "Microsoft Sentinel Contributor", id)]
            : []),
        ];
        return fail(
          `you cannot create the stack's content in the workspace (missing ${content.join(", ")})`,
          `ask its owner to run: ${roles.join("; and ")}`,
          { missingActions: content },
        );
      }
      return pass(
        `reachable${where}; you can create the ${config.tablePlan} table${config.sentinel === "off" ? "" : " and Microsoft Sentinel's content"}`,
      );
    }
  }
}
