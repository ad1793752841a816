/**
 * Check 9: in the Microsoft 365 tenant the caller can register apps and grant admin consent.
 * A person needs an active directory role that can (Global Administrator, Privileged Role
 * Administrator, Cloud Application Administrator, Application Administrator), read from
 * `GET /me/transitiveMemberOf` (https://learn.microsoft.com/en-us/graph/api/user-list-transitivememberof);
 * a CI service principal needs the Graph application permissions Application.ReadWrite.All and
 * AppRoleAssignment.ReadWrite.All, read from its Graph token's `roles` claim
 * (https://learn.microsoft.com/en-us/entra/identity/enterprise-apps/grant-admin-consent).
 */
import type { Client } from "@microsoft/microsoft-graph-client";
import { type CallerClaims, describeError, type Failure, isAppOnly } from "../azure";
import type { PreflightConfig } from "../inputs";
import { fail, pass, skip, type Verdict } from "../result";
import type { TokenOutcome } from "./signIn";

/** Directory roles (by template id) that can register the app and grant it admin consent. */
export const CONSENT_ROLES: Readonly<Record<string, string>> = Object.freeze({
  "62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
  "e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
  "158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
  "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
});

/** Graph application permissions a CI service principal needs. */
export const REQUIRED_GRAPH_APP_ROLES = [
  "Application.ReadWrite.All",
  "AppRoleAssignment.ReadWrite.All",
] as const;

/** Most `/me/transitiveMemberOf` pages preflight follows. */
const MAX_PAGES = 20;

/** What the directory probe found. */
export type DirectoryProbe =
  | { kind: "service-principal"; appId: string; roles: string[] }
  | { kind: "user"; upn: string; roleTemplateIds: string[] }
  | { kind: "error"; failure: Failure }
  | { kind: "no-token" };

interface DirectoryObject {
  "@odata.type"?: string;
  roleTemplateId?: string | null;
}

/**
 * For a service principal: the roles of its Graph token. For a person: the directory roles it
 * holds (directly or through groups), following `@odata.nextLink`.
 */
export async function probeDirectory(
  graph: Client,
  graphToken: TokenOutcome,
  abortSignal?: AbortSignal,
): Promise<DirectoryProbe> {
  if (!graphToken.ok) return { kind: "no-token" };
  const claims: CallerClaims = graphToken.claims;
  if (isAppOnly(claims)) {
    return { kind: "service-principal", appId: claims.appid ?? "", roles: claims.roles ?? [] };
  }
  try {
    const roleTemplateIds: string[] = [];
    let next: string | undefined = "/me/transitiveMemberOf";
    for (let page = 0; next && page < MAX_PAGES; page++) {
      const request = graph.api(next);
      if (abortSignal) request.option("signal", abortSignal);
      const body = (await request.get()) as {
        value?: DirectoryObject[];
        "@odata.nextLink"?: string;
      };
      for (const item of body.value ?? []) {
        if (item["@odata.type"] === "#microsoft.graph.directoryRole" && item.roleTemplateId) {
          roleTemplateIds.push(item.roleTemplateId.toLowerCase());
        }
      }
      next = body["@odata.nextLink"];
    }
    return { kind: "user", upn: claims.upn ?? claims.oid ?? "", roleTemplateIds };
  } catch (error) {
    return { kind: "error", failure: describeError(error) };
  }
}

/** Judges whether the caller can register the app and grant consent. Pure. */
export function judgeDirectory(config: PreflightConfig, probe: DirectoryProbe): Verdict {
  switch (probe.kind) {
    case "no-token":
      return skip("no Graph token for the Microsoft 365 tenant (see the sign-in check)");
    case "error":
      return fail(
        `cannot read your directory roles: ${probe.failure.message}`,
        `check your roles in the Microsoft Entra admin center > Identity > Users > (you) > Assigned roles, tenant ${config.tenantId}`,
      );
    case "service-principal": {
      const held = new Set(probe.roles.map((r) => r.toLowerCase()));
      const missing = REQUIRED_GRAPH_APP_ROLES.filter((r) => !held.has(r.toLowerCase()));
      if (missing.length === 0) {
        return pass(`service principal holds ${REQUIRED_GRAPH_APP_ROLES.join(" and ")}`);
      }
      return fail(
        `service principal ${probe.appId} lacks the Microsoft Graph application permission${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`,
        `Microsoft Entra admin center > App registrations > ${probe.appId} > API permissions > Add a permission > Microsoft Graph > Application permissions > ${missing.join(", ")}, then Grant admin consent (tenant ${config.tenantId})`,
        { missingGraphAppRoles: missing },
      );
    }
    case "user": {
      const roles = probe.roleTemplateIds
        .map((id) => CONSENT_ROLES[id])
        .filter((name): name is string => name !== undefined);
      if (roles.length > 0) return pass(`${probe.upn} is ${roles.join(", ")}`);
      return fail(
        `${probe.upn} holds no active role that can register apps and grant admin consent`,
        "ask a Global Administrator to assign you Cloud Application Administrator: Microsoft Entra admin center > Identity > Roles & admins > Cloud Application Administrator > Add assignments (activate it first if it is eligible through PIM)",
        { heldRoleTemplateIds: probe.roleTemplateIds },
      );
    }
  }
}
