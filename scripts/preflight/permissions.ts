/**
 * Effective Azure RBAC permissions: whether a set of `Microsoft.Authorization/permissions`
 * entries allows an action. Each entry is one role's `actions` minus its `notActions`; an action
 * is allowed when some entry allows it. Patterns use `*` wildcards and compare case-insensitively
 * (https://learn.microsoft.com/en-us/azure/role-based-access-control/role-definitions#actions).
 * Deny assignments are not part of this listing. Pure.
 */

/** One entry of `GET {scope}/providers/Microsoft.Authorization/permissions`. */
export interface PermissionEntry {
  actions?: string[];
  notActions?: string[];
}

/** Whether an RBAC action pattern (with `*` wildcards) matches an action. */
export function actionMatches(pattern: string, action: string): boolean {
  const source = pattern
    .trim()
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${source}$`, "i").test(action.trim());
}

/** Whether the permissions allow `action`. */
export function isAllowed(permissions: readonly PermissionEntry[], action: string): boolean {
  return permissions.some(
    (entry) =>
      (entry.actions ?? []).some((pattern) => actionMatches(pattern, action)) &&
      !(entry.notActions ?? []).some((pattern) => actionMatches(pattern, action)),
  );
}

/** The actions of `required` the permissions do not allow, in the given order. */
export function missingActions(
  permissions: readonly PermissionEntry[],
  required: readonly string[],
): string[] {
  return required.filter((action) => !isAllowed(permissions, action));
}

/** Creating the role assignments a deployment makes (DCR, Key Vault, AcrPull). */
export const ROLE_ASSIGNMENT_WRITE = "Microsoft.Authorization/roleAssignments/write";

/** Write actions `pulumi up` needs in the resource group (one per resource type it creates). */
export const DEPLOYMENT_ACTIONS: readonly string[] = [
  "Microsoft.OperationalInsights/workspaces/write",
  "Microsoft.OperationalInsights/workspaces/tables/write",
  "Microsoft.Insights/dataCollectionEndpoints/write",
  "Microsoft.Insights/dataCollectionRules/write",
  "Microsoft.KeyVault/vaults/write",
  "Microsoft.KeyVault/vaults/secrets/write",
  "Microsoft.Storage/storageAccounts/write",
  "Microsoft.ManagedIdentity/userAssignedIdentities/write",
  "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action",
  "Microsoft.App/managedEnvironments/write",
  "Microsoft.App/containerApps/write",
  ROLE_ASSIGNMENT_WRITE,
];
