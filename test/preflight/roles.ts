import type { ArmPermission } from "../../emulator/src/preflightKnobs";

/**
 * Permission entries of Azure built-in roles as `Microsoft.Authorization/permissions` lists them
 * (https://learn.microsoft.com/en-us/azure/role-based-access-control/built-in-roles).
 */
export const OWNER: ArmPermission = { actions: ["*"], notActions: [] };

export const CONTRIBUTOR: ArmPermission = {
  actions: ["*"],
  notActions: [
    "Microsoft.Authorization/*/Delete",
    "Microsoft.Authorization/*/Write",
    "Microsoft.Authorization/elevateAccess/Action",
    "Microsoft.Blueprint/blueprintAssignments/write",
    "Microsoft.Blueprint/blueprintAssignments/delete",
    "Microsoft.Compute/galleries/share/action",
    "Microsoft.Purview/consents/write",
    "Microsoft.Purview/consents/delete",
    "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
    "Microsoft.Subscription/cancel/action",
    "Microsoft.Subscription/enable/action",
  ],
};

export const USER_ACCESS_ADMINISTRATOR: ArmPermission = {
  actions: ["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
  notActions: [],
};

export const READER: ArmPermission = { actions: ["*/read"], notActions: [] };

export const LOG_ANALYTICS_CONTRIBUTOR: ArmPermission = {
  actions: [
    "*/read",
    "Microsoft.ClassicCompute/virtualMachines/extensions/*",
    "Microsoft.Insights/alertRules/*",
    "Microsoft.Insights/diagnosticSettings/*",
    "Microsoft.OperationalInsights/*",
    "Microsoft.OperationsManagement/*",
    "Microsoft.Resources/deployments/*",
    "Microsoft.Resources/subscriptions/resourcegroups/deployments/*",
    "Microsoft.Storage/storageAccounts/listKeys/action",
    "Microsoft.Support/*",
  ],
  notActions: [],
};

/** Directory role template ids (https://learn.microsoft.com/en-us/entra/identity/role-based-access-control/permissions-reference). */
export const CLOUD_APPLICATION_ADMINISTRATOR = "158c047a-c907-4556-b7ef-446551a6b5f7";
export const GLOBAL_READER = "f2ef992c-3afb-46b9-b7cf-a126ee74c451";
