/**
 * The probe behind checks 7 and 8: an existing resource (workspace, registry) is readable, and
 * the caller's effective permissions on it.
 * https://learn.microsoft.com/en-us/rest/api/resources/resources/get-by-id and
 * https://learn.microsoft.com/en-us/rest/api/authorization/permissions/list-for-resource
 */
import type { TokenCredential } from "@azure/identity";
import { type ArmClients, createArmClients, describeError, type Failure } from "../azure";
import { type PreflightConfig, resourceIdParts } from "../inputs";
import type { PermissionEntry } from "../permissions";

/** What the probe found about one existing resource. */
export type ExistingResourceProbe =
  | { kind: "found"; location: string | null; permissions: PermissionEntry[] }
  | { kind: "missing" }
  | { kind: "forbidden"; failure: Failure }
  | { kind: "error"; failure: Failure };

/**
 * Reads the resource by id, then lists the caller's permissions on it. The resource may live in
 * another subscription than the stack's; the clients are made for its own.
 */
export async function probeExistingResource(
  config: PreflightConfig,
  credential: TokenCredential,
  resourceId: string,
  apiVersion: string,
  abortSignal?: AbortSignal,
): Promise<ExistingResourceProbe> {
  const parts = resourceIdParts(resourceId);
  const clients: ArmClients = createArmClients(config, credential, parts.subscriptionId);
  let location: string | null;
  try {
    // The SDK's path template is "/{resourceId}" with the id unencoded: without its leading
    // slash the request goes to the canonical /subscriptions/… path rather than //subscriptions/….
    const resource = await clients.resources.resources.getById(
      resourceId.replace(/^\/+/, ""),
      apiVersion,
      { abortSignal },
    );
    location = resource.location ?? null;
  } catch (error) {
    const failure = describeError(error);
    if (failure.status === 404) return { kind: "missing" };
    if (failure.status === 403) return { kind: "forbidden", failure };
    return { kind: "error", failure };
  }
  try {
    const permissions: PermissionEntry[] = [];
    for await (const entry of clients.authorization.permissions.listForResource(
      parts.resourceGroup,
      parts.provider,
      "",
      parts.resourceType,
      parts.name,
      { abortSignal },
    )) {
      permissions.push({ actions: entry.actions, notActions: entry.notActions });
    }
    return { kind: "found", location, permissions };
  } catch (error) {
    return { kind: "error", failure: describeError(error) };
  }
}
