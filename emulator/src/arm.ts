import { randomUUID } from "node:crypto";
import { normalizeAudience } from "./audiences";
import { type RequestContext, type Router, sendJson } from "./http";
import { bearerToken } from "./jwt";
import { seededGuid } from "./random";
import type { EmulatorState } from "./state";

/**
 * Emulated Azure Resource Manager, only the reads `npm run preflight` makes with the caller's
 * credential: a resource group, its resource providers, the caller's effective permissions on a
 * resource group or a resource, soft-deleted Key Vaults and a generic resource GET (an existing
 * workspace or registry). Shapes and error codes follow Microsoft's REST reference:
 * - https://learn.microsoft.com/en-us/rest/api/resources/resource-groups/get
 * - https://learn.microsoft.com/en-us/rest/api/resources/providers/get
 * - https://learn.microsoft.com/en-us/rest/api/authorization/permissions/list-for-resource-group
 * - https://learn.microsoft.com/en-us/rest/api/authorization/permissions/list-for-resource
 * - https://learn.microsoft.com/en-us/rest/api/keyvault/keyvault/vaults/list-deleted
 * - https://learn.microsoft.com/en-us/rest/api/resources/resources/get-by-id
 */

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
  /** Locations (ARM display names) of Microsoft.App/managedEnvironments. */
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
const KNOWN_PROVIDERS = [
  "Microsoft.App",
  "Microsoft.Insights",
  "Microsoft.OperationalInsights",
  "Microsoft.KeyVault",
  "Microsoft.ManagedIdentity",
  "Microsoft.Storage",
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

/** Resource Manager token audiences, plus the emulator's own URL (the SDK's scope for a custom endpoint). */
const ARM_AUDIENCES: ReadonlySet<string> = new Set([
  "https://management.azure.com",
  "https://management.core.windows.net",
  "https://management.usgovcloudapi.net",
  "https://management.core.usgovcloudapi.net",
]);

/**
 * Whether `audience` is a Resource Manager audience. Azure SDK management clients given a custom
 * endpoint ask for `<endpoint>/.default`, so the emulator's own origin counts as one.
 */
export function isArmAudience(state: EmulatorState, audience: string): boolean {
  const normalized = normalizeAudience(audience).toLowerCase();
  return ARM_AUDIENCES.has(normalized) || normalized === state.url.toLowerCase();
}

/** Whether the emulated Entra ID signs callers in to `tenant` (the tenant or the second tenant). */
export function isEmulatedTenant(state: EmulatorState, tenant: string): boolean {
  const wanted = tenant.toLowerCase();
  const second = state.knobs.preflight.secondTenantId;
  return wanted === state.tenant.tenantId.toLowerCase() || wanted === second?.toLowerCase();
}

function armError(ctx: RequestContext, status: number, code: string, message: string): void {
  sendJson(ctx, status, { error: { code, message } }, { "x-ms-request-id": randomUUID() });
}

const RESOURCE_GROUP = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)$/i;
const RG_PERMISSIONS =
  /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/Microsoft\.Authorization\/permissions$/i;
const RESOURCE_PERMISSIONS =
  /^(\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/.+)\/providers\/Microsoft\.Authorization\/permissions$/i;
const PROVIDER = /^\/subscriptions\/([^/]+)\/providers\/([^/]+)$/i;
const DELETED_VAULTS = /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.KeyVault\/deletedVaults$/i;
const RESOURCE = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/.+$/i;

/** Registers the ARM routes (every GET under /subscriptions/). */
export function registerArm(router: Router, state: EmulatorState): void {
  const subscriptionId = emulatedSubscriptionId(state.seed);
  router.add("GET", /^\/+subscriptions\//i, (ctx) => {
    const knobs = state.knobs.preflight;
    const check = state.signer.verify(bearerToken(ctx.req.headers.authorization), state.now());
    if (!check.ok) {
      return armError(
        ctx,
        401,
        check.problem === "missing" ? "AuthenticationFailed" : "InvalidAuthenticationToken",
        check.problem === "missing"
          ? "Authentication failed. The 'Authorization' header is missing."
          : `The access token is invalid (${check.problem}).`,
      );
    }
    if (!isArmAudience(state, check.claims.aud)) {
      return armError(
        ctx,
        401,
        "InvalidAuthenticationToken",
        "The access token has been obtained for wrong audience or resource.",
      );
    }
    if (!ctx.url.searchParams.get("api-version")) {
      return armError(
        ctx,
        400,
        "MissingApiVersionParameter",
        "The api-version query parameter (?api-version=) is required for all requests.",
      );
    }
    // The SDK leaves an empty parentResourcePath as "//"; ARM treats it as one slash.
    const path = ctx.url.pathname.replace(/\/{2,}/g, "/").replace(/\/+$/, "");
    const sub = /^\/subscriptions\/([^/]+)/i.exec(path)?.[1] ?? "";
    if (sub.toLowerCase() !== subscriptionId) {
      return armError(
        ctx,
        404,
        "SubscriptionNotFound",
        `The subscription '${sub}' could not be found.`,
      );
    }
    const hasGroup = (name: string) =>
      knobs.resourceGroups.some((group) => group.toLowerCase() === name.toLowerCase());
    const groupMissing = (name: string) =>
      armError(ctx, 404, "ResourceGroupNotFound", `Resource group '${name}' could not be found.`);

    const forbidden = (read: ArmRead, scope: string): boolean => {
      if (!knobs.forbiddenReads.includes(read)) return false;
      const who = check.claims.oid ?? check.claims.sub;
      armError(
        ctx,
        403,
        "AuthorizationFailed",
        `The client '${who}' with object id '${who}' does not have authorization to perform action 'read' over scope '${scope}' or the scope is invalid.`,
      );
      return true;
    };

    let m = RG_PERMISSIONS.exec(path);
    if (m) {
      if (!hasGroup(m[2]!)) return groupMissing(m[2]!);
      if (forbidden("permissions", path)) return;
      return sendJson(ctx, 200, { value: knobs.resourceGroupPermissions });
    }
    m = RESOURCE_PERMISSIONS.exec(path);
    if (m) {
      const resource = findResource(knobs, m[1]!);
      if (!resource) return resourceMissing(ctx, m[1]!);
      return sendJson(ctx, 200, { value: resource.permissions });
    }
    m = RESOURCE_GROUP.exec(path);
    if (m) {
      const name = knobs.resourceGroups.find((g) => g.toLowerCase() === m![2]!.toLowerCase());
      if (!name) return groupMissing(m[2]!);
      if (forbidden("resourceGroup", path)) return;
      return sendJson(ctx, 200, {
        id: `/subscriptions/${subscriptionId}/resourceGroups/${name}`,
        name,
        type: "Microsoft.Resources/resourceGroups",
        location: knobs.resourceGroupLocation,
        properties: { provisioningState: "Succeeded" },
      });
    }
    m = DELETED_VAULTS.exec(path);
    if (m) {
      if (forbidden("deletedVaults", path)) return;
      const now = state.now();
      return sendJson(ctx, 200, {
        value: knobs.deletedVaults.map((vault) => ({
          id: `/subscriptions/${subscriptionId}/providers/Microsoft.KeyVault/locations/${vault.location}/deletedVaults/${vault.name}`,
          name: vault.name,
          type: "Microsoft.KeyVault/deletedVaults",
          properties: {
            vaultId: `/subscriptions/${subscriptionId}/resourceGroups/${DEFAULT_RESOURCE_GROUP}/providers/Microsoft.KeyVault/vaults/${vault.name}`,
            location: vault.location,
            deletionDate: new Date(now - 86_400_000).toISOString(),
            scheduledPurgeDate: new Date(now + 89 * 86_400_000).toISOString(),
            tags: {},
            purgeProtectionEnabled: false,
          },
        })),
      });
    }
    m = PROVIDER.exec(path);
    if (m) {
      if (forbidden("providers", path)) return;
      return sendProvider(ctx, state, subscriptionId, m[2]!);
    }
    m = RESOURCE.exec(path);
    if (m) {
      if (!hasGroup(m[2]!)) return groupMissing(m[2]!);
      const resource = findResource(knobs, path);
      if (!resource) return resourceMissing(ctx, path);
      if (!resource.readable) {
        return armError(
          ctx,
          403,
          "AuthorizationFailed",
          `The client '${check.claims.oid ?? check.claims.sub}' with object id '${check.claims.oid ?? check.claims.sub}' does not have authorization to perform action 'read' over scope '${resource.id}' or the scope is invalid.`,
        );
      }
      return sendJson(ctx, 200, resourceView(resource));
    }
    return armError(
      ctx,
      404,
      "InvalidResourceType",
      `The emulator does not serve ${path}; preflight reads only resource groups, providers, permissions, deleted vaults and resources.`,
    );
  });
}

function findResource(knobs: PreflightKnobs, id: string): ArmResource | undefined {
  return knobs.resources.find((r) => r.id.toLowerCase() === id.toLowerCase());
}

function resourceMissing(ctx: RequestContext, id: string): void {
  const parts = id.split("/");
  armError(
    ctx,
    404,
    "ResourceNotFound",
    `The Resource '${parts.slice(-3).join("/")}' under resource group '${parts[4] ?? ""}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );
}

function resourceView(resource: ArmResource): Record<string, unknown> {
  const parts = resource.id.split("/");
  const name = parts.at(-1) ?? "";
  const type = `${parts[6]}/${parts
    .slice(7)
    .filter((_, i) => i % 2 === 0)
    .join("/")}`;
  return {
    id: resource.id,
    name,
    type,
    location: resource.location,
    properties: { provisioningState: "Succeeded" },
  };
}

function sendProvider(
  ctx: RequestContext,
  state: EmulatorState,
  subscriptionId: string,
  namespace: string,
): void {
  const known = KNOWN_PROVIDERS.find((ns) => ns.toLowerCase() === namespace.toLowerCase());
  if (!known) {
    armError(
      ctx,
      404,
      "InvalidResourceNamespace",
      `The resource namespace '${namespace}' is invalid.`,
    );
    return;
  }
  const knobs = state.knobs.preflight;
  const listed = (namespaces: string[]) =>
    namespaces.some((ns) => ns.toLowerCase() === known.toLowerCase());
  const registrationState = listed(knobs.unregisteredProviders)
    ? "NotRegistered"
    : listed(knobs.registeringProviders)
      ? "Registering"
      : "Registered";
  const resourceTypes =
    known === "Microsoft.App"
      ? [
          {
            resourceType: "managedEnvironments",
            locations: [...knobs.containerAppsLocations],
            apiVersions: ["2025-01-01", "2024-03-01"],
            capabilities:
              "CrossResourceGroupResourceMove, CrossSubscriptionResourceMove, SystemAssignedResourceIdentity",
          },
          {
            resourceType: "containerApps",
            locations: [...knobs.containerAppsLocations],
            apiVersions: ["2025-01-01", "2024-03-01"],
          },
        ]
      : [];
  sendJson(ctx, 200, {
    id: `/subscriptions/${subscriptionId}/providers/${known}`,
    namespace: known,
    registrationState,
    registrationPolicy: "RegistrationRequired",
    resourceTypes,
  });
}
