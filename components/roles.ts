/**
 * Role ids AuditBridge grants. Azure built-in role definition GUIDs are the same in every
 * subscription (learn "Azure built-in roles"); the Office 365 Management APIs app roles are NOT
 * hard-coded: their ids are resolved by name from the API's service principal at deploy time.
 */

/** Application (client) id of the Office 365 Management APIs, the same in every tenant. */
export const O365_MANAGEMENT_APP_ID = "c5393580-f805-4401-95e8-94b7a6ef2fc2";

/** Management API app roles by purpose. */
export const MANAGEMENT_ROLES = {
  activityFeed: "ActivityFeed.Read",
  activityFeedDlp: "ActivityFeed.ReadDlp",
  serviceHealth: "ServiceHealth.Read",
} as const;

/** Azure built-in role definition GUIDs. */
export const AZURE_ROLES = {
  /** Send data to a DCR through the Logs Ingestion API. */
  monitoringMetricsPublisher: "3913510d-42f4-4e42-8a64-420c390055eb",
  /** Read secret values from Key Vault (RBAC mode). */
  keyVaultSecretsUser: "4633458b-17de-408a-b874-0445c86b69e6",
  /** Manage (create, update, delete) secrets in Key Vault (RBAC mode): the deployer. */
  keyVaultSecretsOfficer: "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
  /** Read, write and lease blobs: the checkpoint store. */
  storageBlobDataContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
  /** Pull images from an Azure Container Registry. */
  acrPull: "7f951dda-4ed3-4680-a7ca-43fe172d538d",
} as const;

/**
 * Management API roles the app needs: ActivityFeed.Read always, ActivityFeed.ReadDlp only when
 * DLP.All is collected (it exposes sensitive-data matches), ServiceHealth.Read only on request.
 */
export function managementRolesFor(options: {
  collectDlp: boolean;
  includeServiceHealth: boolean;
}): string[] {
  const roles: string[] = [MANAGEMENT_ROLES.activityFeed];
  if (options.collectDlp) roles.push(MANAGEMENT_ROLES.activityFeedDlp);
  if (options.includeServiceHealth) roles.push(MANAGEMENT_ROLES.serviceHealth);
  return roles;
}

/**
 * Resolves role names to ids from a service principal's `appRoleIds` map. Throws one line naming
 * the missing role, because a wrong id would silently grant nothing.
 */
export function resolveAppRoleIds(
  appRoleIds: Readonly<Record<string, string>>,
  roleNames: readonly string[],
  apiName: string,
): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const role of roleNames) {
    const id = appRoleIds[role];
    if (!id) {
      throw new Error(
        `${apiName} exposes no app role named ${role} (it has: ${Object.keys(appRoleIds).sort().join(", ") || "none"}): check the tenant's ${apiName} service principal`,
      );
    }
    resolved[role] = id;
  }
  return resolved;
}

/**
 * Full role definition id for a built-in role at a scope. The subscription is taken from the
 * scope itself, so no client-config lookup is needed and the two can never disagree.
 */
export function roleDefinitionIdFor(scope: string, roleGuid: string): string {
  const m = /^\/subscriptions\/([^/]+)/i.exec(scope);
  if (!m)
    throw new Error(`role assignment scope must start with /subscriptions/<id> (got ${scope})`);
  return `/subscriptions/${m[1]}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`;
}
