/**
 * What the emulated Azure subscription and directory look like to `npm run preflight`: the knobs
 * behind the ARM and Graph directory endpoints (arm.ts, graphDirectory.ts). Kept apart from the
 * routes so the knob types import nothing that imports them back.
 */
import { seededGuid } from "./random";

/** One entry of a permissions listing (`Microsoft.Authorization/permissions`). */
export interface ArmPermission {
  actions: string[];
  notActions: string[];
  dataActions?: string[];
  notDataActions?: string[];
}

/** A resource that exists in the emulated subscription (an existing workspace or registry). */
export interface ArmResource {
  /** Full resource id, e.g. /subscriptions/…/providers/Microsoft.OperationalInsights/workspaces/x. */
  id: string;
  location: string;
  /** The caller's effective permissions on it (what `…/permissions` lists). */
  permissions: ArmPermission[];
  /** When false, every read answers 403 AuthorizationFailed (the caller has no read access). */
  readable: boolean;
}

/** A soft-deleted Key Vault. */
export interface DeletedVault {
  name: string;
  /** ARM location name, e.g. westeurope. */
  location: string;
}

/**
 * Knobs of the emulated Azure subscription and directory that preflight reads. They live on
 * `emulator.knobs.preflight`, are mutable while the emulator runs and apply to the next request.
 */
export interface PreflightKnobs {
  /** Resource groups that exist (case-insensitive names); each in `resourceGroupLocation`. */
  resourceGroups: string[];
  resourceGroupLocation: string;
  /** The caller's effective permissions on every resource group (default: Owner, `*`). */
  resourceGroupPermissions: ArmPermission[];
  /** Resource provider namespaces that are NOT registered in the subscription. */
  unregisteredProviders: string[];
  /** Namespaces whose registration is still in progress (registrationState "Registering"). */
  registeringProviders: string[];
  /** Locations (ARM display names) of Microsoft.App/managedEnvironments, containerApps and jobs. */
  containerAppsLocations: string[];
  /** Soft-deleted Key Vaults in the subscription. */
  deletedVaults: DeletedVault[];
  /** Resources that exist outside the stack (existing workspace, registry). */
  resources: ArmResource[];
  /** Directory role template ids the signed-in user holds (transitively). */
  userDirectoryRoleTemplateIds: string[];
  /** Microsoft Graph application permissions put into a service principal's Graph tokens. */
  graphAppRoles: string[];
  /** Whether the Office 365 Management APIs service principal exists in the tenant. */
  o365ServicePrincipalPresent: boolean;
  /** A second tenant the emulated Entra ID signs the caller in to (cross-tenant setups); null = none. */
  secondTenantId: string | null;
  /**
   * Reads the caller may not make (each answers 403 AuthorizationFailed): "resourceGroup",
   * "permissions", "providers", "deletedVaults".
   */
  forbiddenReads: ArmRead[];
}

/** The kinds of ARM reads {@link PreflightKnobs.forbiddenReads} can refuse. */
export type ArmRead = "resourceGroup" | "permissions" | "providers" | "deletedVaults";

/** Graph directory role template id of Global Administrator. */
export const GLOBAL_ADMINISTRATOR_TEMPLATE_ID = "62e90394-69f5-4237-9190-012177145e10";

/** Resource providers an AuditBridge deployment uses (all registered by default). */
export const KNOWN_PROVIDERS = [
  "Microsoft.App",
  "Microsoft.Insights",
  "Microsoft.OperationalInsights",
  "Microsoft.KeyVault",
  "Microsoft.ManagedIdentity",
  "Microsoft.Storage",
  "Microsoft.SecurityInsights",
  "Microsoft.Authorization",
  "Microsoft.Resources",
  "Microsoft.ContainerRegistry",
] as const;

/**
 * A sample of the regions that offered Container Apps managed environments, as ARM's provider
 * listing names them (display names, not location names).
 */
export const DEFAULT_CONTAINER_APPS_LOCATIONS: readonly string[] = [
  "West Europe",
  "North Europe",
  "East US",
  "East US 2",
  "West US 2",
  "UK South",
  "Germany West Central",
  "Australia East",
  "Japan East",
  "Canada Central",
];

/** Resource group name preflight tests use by default. */
export const DEFAULT_RESOURCE_GROUP = "rg-auditbridge";

/** The emulated subscription id for a seed. */
export function emulatedSubscriptionId(seed: number): string {
  return seededGuid(seed, "azure-subscription");
}

/** The signed-in user the emulator knows (for the password grant and `/me`). */
export function emulatedUser(seed: number): {
  objectId: string;
  userPrincipalName: string;
  password: string;
} {
  return {
    objectId: seededGuid(seed, "user-object"),
    userPrincipalName: "admin@auditbridge.emulator",
    password: `pw-${seededGuid(seed, "user-password")}`,
  };
}

/** Knobs of a subscription where everything preflight checks is in order. */
export function defaultPreflightKnobs(): PreflightKnobs {
  return {
    resourceGroups: [DEFAULT_RESOURCE_GROUP],
    resourceGroupLocation: "westeurope",
    resourceGroupPermissions: [
      { actions: ["*"], notActions: [], dataActions: [], notDataActions: [] },
    ],
    unregisteredProviders: [],
    registeringProviders: [],
    containerAppsLocations: [...DEFAULT_CONTAINER_APPS_LOCATIONS],
    deletedVaults: [],
    resources: [],
    userDirectoryRoleTemplateIds: [GLOBAL_ADMINISTRATOR_TEMPLATE_ID],
    graphAppRoles: ["Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All"],
    o365ServicePrincipalPresent: true,
    secondTenantId: null,
    forbiddenReads: [],
  };
}

/** Checks preflight knob values and throws a one-line error naming the bad knob. */
export function validatePreflightKnobs(knobs: PreflightKnobs): void {
  const arrays = [
    "resourceGroups",
    "resourceGroupPermissions",
    "unregisteredProviders",
    "registeringProviders",
    "containerAppsLocations",
    "deletedVaults",
    "resources",
    "userDirectoryRoleTemplateIds",
    "graphAppRoles",
    "forbiddenReads",
  ] as const;
  for (const name of arrays) {
    if (!Array.isArray(knobs[name])) throw new Error(`knobs.preflight.${name} must be an array`);
  }
  for (const resource of knobs.resources) {
    if (!/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/.+/i.test(resource.id)) {
      throw new Error(
        `knobs.preflight.resources: "${resource.id}" is not a resource id (/subscriptions/…/resourceGroups/…/providers/…)`,
      );
    }
  }
  if (typeof knobs.o365ServicePrincipalPresent !== "boolean") {
    throw new Error("knobs.preflight.o365ServicePrincipalPresent must be true or false");
  }
}
