/**
 * Checks 2 and 3: the resource group exists, and the caller's effective permissions on it
 * (`Microsoft.Authorization/permissions`) allow every write `pulumi up` makes for this stack
 * (scope.ts), role assignments included (Contributor alone cannot create role assignments).
 * https://learn.microsoft.com/en-us/rest/api/authorization/permissions/list-for-resource-group
 */
import type { ArmClients, Failure } from "../azure";
import { describeError } from "../azure";
import type { PreflightConfig } from "../inputs";
import { missingActions, type PermissionEntry, ROLE_ASSIGNMENT_WRITE } from "../permissions";
import { fail, pass, type Verdict } from "../result";
import { deploymentActions } from "../scope";

/** What the resource group probe found. */
export type ResourceGroupProbe =
  | { kind: "found"; location: string }
  | { kind: "missing" }
  | { kind: "error"; failure: Failure };

/** `GET /subscriptions/{sub}/resourcegroups/{rg}`. */
export async function probeResourceGroup(
  config: PreflightConfig,
  clients: ArmClients,
  abortSignal?: AbortSignal,
): Promise<ResourceGroupProbe> {
  try {
    const group = await clients.resources.resourceGroups.get(config.resourceGroup, { abortSignal });
    return { kind: "found", location: group.location };
  } catch (error) {
    const failure = describeError(error);
    if (failure.status === 404) return { kind: "missing" };
    return { kind: "error", failure };
  }
}

/** The resource group's ARM id. */
export function resourceGroupId(config: PreflightConfig): string {
  return `/subscriptions/${config.subscriptionId}/resourceGroups/${config.resourceGroup}`;
}

/** Judges the resource group probe. Pure. */
export function judgeResourceGroup(config: PreflightConfig, probe: ResourceGroupProbe): Verdict {
  switch (probe.kind) {
    case "found":
      return pass(`${config.resourceGroup} exists (${probe.location})`);
    case "missing":
      return fail(
        `resource group ${config.resourceGroup} does not exist in subscription ${config.subscriptionId} (or you cannot read it)`,
        `az group create --name ${config.resourceGroup} --location ${config.location} --subscription ${config.subscriptionId}`,
      );
    case "error":
      return fail(
        `cannot read resource group ${config.resourceGroup}: ${probe.failure.message}`,
        `ask an Owner of subscription ${config.subscriptionId} for at least Reader on ${resourceGroupId(config)}, then re-run`,
      );
  }
}

/** The caller's permission entries on the resource group, or why they could not be read. */
export type PermissionsProbe =
  | { kind: "listed"; permissions: PermissionEntry[] }
  | { kind: "error"; failure: Failure };

/** `GET {resource group}/providers/Microsoft.Authorization/permissions`. */
export async function probeResourceGroupPermissions(
  config: PreflightConfig,
  clients: ArmClients,
  abortSignal?: AbortSignal,
): Promise<PermissionsProbe> {
  try {
    const permissions: PermissionEntry[] = [];
    for await (const entry of clients.authorization.permissions.listForResourceGroup(
      config.resourceGroup,
      { abortSignal },
    )) {
      permissions.push({ actions: entry.actions, notActions: entry.notActions });
    }
    return { kind: "listed", permissions };
  } catch (error) {
    return { kind: "error", failure: describeError(error) };
  }
}

/** The `az role assignment create` a person with Owner rights runs to grant `role` at `scope`. */
export function roleAssignmentCommand(assignee: string, role: string, scope: string): string {
  return `az role assignment create --assignee ${assignee} --role "${role}" --scope ${scope}`;
}

/** Judges the caller's permissions on the resource group. `callerId` is its object id. Pure. */
export function judgeResourceGroupPermissions(
  config: PreflightConfig,
  probe: PermissionsProbe,
  callerId: string,
): Verdict {
  const scope = resourceGroupId(config);
  if (probe.kind === "error") {
    return fail(
      `cannot list your permissions on ${config.resourceGroup}: ${probe.failure.message}`,
      `ask an Owner to run: ${roleAssignmentCommand(callerId, "Owner", scope)}`,
    );
  }
  const missing = missingActions(probe.permissions, deploymentActions(config));
  if (missing.length === 0) {
    return pass(
      config.collector === "none"
        ? "you can create the Key Vault, its secret and its role assignment (collector none)"
        : "you can create the resources and their role assignments",
    );
  }
  if (missing.length === 1 && missing[0] === ROLE_ASSIGNMENT_WRITE) {
    return fail(
      `you can create resources but not role assignments (${ROLE_ASSIGNMENT_WRITE}), as with Contributor alone`,
      `ask an Owner to run: ${roleAssignmentCommand(callerId, "User Access Administrator", scope)} (or assign Owner, or Role Based Access Control Administrator)`,
      { missingActions: missing },
    );
  }
  return fail(
    `you lack ${missing.length} of the actions pulumi up needs, e.g. ${missing.slice(0, 3).join(", ")}`,
    `ask an Owner to run: ${roleAssignmentCommand(callerId, "Owner", scope)}`,
    { missingActions: missing },
  );
}
