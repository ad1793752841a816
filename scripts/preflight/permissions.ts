/**
 * Effective Azure RBAC permissions: whether a set of `Microsoft.Authorization/permissions`
 * entries allows an action. Each entry is one role's `actions` minus its `notActions`; an action
 * is allowed when some entry allows it. Patterns use `*` wildcards and compare case-insensitively
 * (https://learn.microsoft.com/en-us/azure/role-based-access-control/role-definitions#actions).
 * Deny assignments are not part of this listing. Pure.
 */
import { deploymentActions, ROLE_ASSIGNMENT_WRITE } from "./scope";

export { ROLE_ASSIGNMENT_WRITE };

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

/** Write actions `pulumi up` needs in the resource group for a default stack (scope.ts). */
export const DEPLOYMENT_ACTIONS: readonly string[] = deploymentActions({
  collector: "bundled",
  collectorMode: "always-on",
  sinks: ["logs-ingestion"],
  workspaceResourceId: null,
  keyVault: true,
  tablePlan: "Analytics",
  sentinel: "off",
});
