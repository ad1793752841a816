import { randomUUID } from "node:crypto";
import { normalizeAudience } from "./audiences";
import { jobExecutions, jobResource } from "./containerAppJobs";
import { type RequestContext, type Router, sendJson } from "./http";
import { bearerToken } from "./jwt";
import {
  type ArmRead,
  type ArmResource,
  DEFAULT_RESOURCE_GROUP,
  emulatedSubscriptionId,
  KNOWN_PROVIDERS,
  type PreflightKnobs,
} from "./preflightKnobs";
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
 * and the two reads verify makes of a scheduled collector's Container Apps Job
 * (containerAppJobs.ts).
 */

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
const JOB =
  /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/Microsoft\.App\/jobs\/([^/]+)(\/executions)?$/i;

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
    m = JOB.exec(path);
    if (m) {
      if (!hasGroup(m[2]!)) return groupMissing(m[2]!);
      const [group, name] = [m[2]!.toLowerCase(), m[3]!.toLowerCase()];
      const job = state.knobs.containerAppJobs.find(
        (j) => j.resourceGroup.toLowerCase() === group && j.name === name,
      );
      if (!job) return resourceMissing(ctx, path.replace(/\/executions$/i, ""));
      return sendJson(
        ctx,
        200,
        m[4] ? jobExecutions(subscriptionId, job) : jobResource(subscriptionId, job),
      );
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
          {
            resourceType: "jobs",
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
