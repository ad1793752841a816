import { randomUUID } from "node:crypto";
import { GRAPH_AUDIENCES, normalizeAudience } from "./audiences";
import { registrationWindow } from "./certificate";
import { type RequestContext, type Router, sendJson } from "./http";
import { bearerToken } from "./jwt";
import { DEFAULT_CERTIFICATE_LIFETIME_MS } from "./knobs";
import { seededGuid } from "./random";
import type { EmulatorState } from "./state";

/**
 * Emulated Microsoft Graph, only what verify reads: the app and its password and key credentials, the
 * service principals (the app's and Office 365 Management APIs') with app role assignments, and
 * service health overviews. Errors use Graph's `{error:{code,message}}` shape.
 */

/**
 * The app id of the "Office 365 Management APIs" resource an app asks permissions of:
 * https://learn.microsoft.com/en-us/office/office-365-management-api/get-started-with-office-365-management-apis
 */
export const O365_MANAGEMENT_APP_ID = "c5393580-f805-4401-95e8-94b7a6ef2fc2";
/**
 * Its app roles (application permissions) and their ids, as that resource's service principal
 * publishes them in `appRoles`:
 * https://learn.microsoft.com/en-us/office/office-365-management-api/get-started-with-office-365-management-apis#specify-the-permissions-your-app-requires-to-access-the-office-365-management-apis
 */
export const O365_MANAGEMENT_ROLES: Readonly<Record<string, string>> = Object.freeze({
  "ActivityFeed.Read": "594c1fb6-4f81-4475-ae41-0c394909246c",
  "ActivityFeed.ReadDlp": "4807a72c-ad38-4250-94c9-4eabfe26cd55",
  "ServiceHealth.Read": "e2cea78f-e743-4d8f-a16a-75b629a038ae",
});
const O365_ROLE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  "ActivityFeed.Read": "Read activity data for your organization",
  "ActivityFeed.ReadDlp": "Read DLP policy events including detected sensitive data",
  "ServiceHealth.Read": "Read service health information for your organization",
};

/** Display name of the emulated AuditBridge app registration. */
export const EMULATED_APP_DISPLAY_NAME = "AuditBridge audit reader (emulated)";

const HEALTH_SERVICES: readonly [string, string][] = [
  ["Exchange", "Exchange Online"],
  ["SharePoint", "SharePoint Online"],
  ["OneDriveForBusiness", "OneDrive for Business"],
  ["microsoftteams", "Microsoft Teams"],
  ["OrgLiveID", "Microsoft Entra"],
  ["Microsoft365Defender", "Microsoft 365 Defender"],
  ["O365Client", "Microsoft 365 suite"],
];

function graphError(
  ctx: RequestContext,
  state: EmulatorState,
  status: number,
  code: string,
  message: string,
): void {
  const date = new Date(state.now()).toISOString().slice(0, 19);
  sendJson(ctx, status, {
    error: {
      code,
      message,
      innerError: { date, "request-id": randomUUID(), "client-request-id": randomUUID() },
    },
  });
}

/** Graph's 404 for an id or appId that names nothing. */
function resourceNotFound(ctx: RequestContext, state: EmulatorState, key: string): void {
  graphError(
    ctx,
    state,
    404,
    "Request_ResourceNotFound",
    `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`,
  );
}

/** Registers the Graph routes. */
export function registerGraph(router: Router, state: EmulatorState): void {
  const { tenant, seed } = state;
  const o365SpId = seededGuid(seed, "o365-management-sp");
  const keyId = seededGuid(seed, "password-credential");
  const certificateKeyId = seededGuid(seed, "key-credential");

  const authorized = (ctx: RequestContext): boolean => {
    const check = state.signer.verify(bearerToken(ctx.req.headers.authorization), state.now());
    if (!check.ok) {
      graphError(
        ctx,
        state,
        401,
        "InvalidAuthenticationToken",
        check.problem === "missing"
          ? "Access token is empty."
          : `Access token validation failure (${check.problem}).`,
      );
      return false;
    }
    if (!GRAPH_AUDIENCES.has(normalizeAudience(check.claims.aud))) {
      graphError(
        ctx,
        state,
        401,
        "InvalidAuthenticationToken",
        "Access token validation failure. Invalid audience.",
      );
      return false;
    }
    return true;
  };

  const route = (pattern: RegExp, handler: (ctx: RequestContext) => void) =>
    router.add("GET", pattern, (ctx) => {
      if (authorized(ctx)) handler(ctx);
    });

  const appView = () => {
    const startMs = state.knobs.secretExpiresAtMs - 180 * 24 * 60 * 60 * 1000;
    return {
      "@odata.context": `${state.url}/v1.0/$metadata#applications/$entity`,
      id: tenant.applicationObjectId,
      appId: tenant.clientId,
      displayName: EMULATED_APP_DISPLAY_NAME,
      signInAudience: "AzureADMyOrg",
      passwordCredentials: [
        {
          customKeyIdentifier: null,
          displayName: "auditbridge-collector",
          endDateTime: new Date(state.knobs.secretExpiresAtMs).toISOString(),
          hint: null,
          keyId,
          secretText: null,
          startDateTime: new Date(Math.min(startMs, state.now())).toISOString(),
        },
      ],
      // Graph's keyCredential: customKeyIdentifier is the SHA-1 thumbprint as binary (base64).
      keyCredentials: state.certificates.map((certificate) => {
        const window = registrationWindow(
          state.knobs.certificateExpiresAtMs,
          state.now(),
          DEFAULT_CERTIFICATE_LIFETIME_MS,
        );
        return {
          customKeyIdentifier: Buffer.from(certificate.thumbprint, "hex").toString("base64"),
          displayName: certificate.subject,
          endDateTime: new Date(window.endMs).toISOString(),
          key: null,
          keyId: certificateKeyId,
          startDateTime: new Date(window.startMs).toISOString(),
          type: "AsymmetricX509Cert",
          usage: "Verify",
        };
      }),
      requiredResourceAccess: [
        {
          resourceAppId: O365_MANAGEMENT_APP_ID,
          resourceAccess: Object.values(O365_MANAGEMENT_ROLES).map((id) => ({ id, type: "Role" })),
        },
      ],
    };
  };

  /** The app registration, if `key` (an appId or an object id) is the `expected` one. */
  const sendApplication = (ctx: RequestContext, key: string, expected: string) => {
    if (key.toLowerCase() !== expected.toLowerCase()) {
      resourceNotFound(ctx, state, key);
      return;
    }
    sendJson(ctx, 200, appView());
  };
  route(/^\/v1\.0\/applications\(appId='(?<appId>[^']+)'\)$/, (ctx) =>
    sendApplication(ctx, ctx.params.appId!, tenant.clientId),
  );
  route(/^\/v1\.0\/applications\/(?<id>[^/]+)$/, (ctx) =>
    sendApplication(ctx, ctx.params.id!, tenant.applicationObjectId),
  );

  const servicePrincipals = () => [
    {
      id: tenant.servicePrincipalObjectId,
      appId: tenant.clientId,
      displayName: EMULATED_APP_DISPLAY_NAME,
      servicePrincipalType: "Application",
      appRoles: [],
    },
    {
      id: o365SpId,
      appId: O365_MANAGEMENT_APP_ID,
      displayName: "Office 365 Management APIs",
      servicePrincipalType: "Application",
      servicePrincipalNames: [
        O365_MANAGEMENT_APP_ID,
        "https://manage.office.com",
        "https://manage-gcc.office.com",
        "https://manage.office365.us",
        "https://manage.protection.apps.mil",
      ],
      appRoles: Object.entries(O365_MANAGEMENT_ROLES).map(([value, id]) => ({
        allowedMemberTypes: ["Application"],
        description: O365_ROLE_DESCRIPTIONS[value],
        displayName: O365_ROLE_DESCRIPTIONS[value],
        id,
        isEnabled: true,
        origin: "Application",
        value,
      })),
    },
  ];

  route(/^\/v1\.0\/servicePrincipals\(appId='(?<appId>[^']+)'\)$/, (ctx) => {
    const sp = servicePrincipals().find(
      (p) => p.appId.toLowerCase() === ctx.params.appId!.toLowerCase(),
    );
    if (!sp) {
      return resourceNotFound(ctx, state, ctx.params.appId!);
    }
    sendJson(ctx, 200, {
      "@odata.context": `${state.url}/v1.0/$metadata#servicePrincipals/$entity`,
      ...sp,
    });
  });

  route(/^\/v1\.0\/servicePrincipals\/(?<id>[^/]+)\/appRoleAssignments$/, (ctx) => {
    const sp = servicePrincipals().find((p) => p.id.toLowerCase() === ctx.params.id!.toLowerCase());
    if (!sp) {
      return resourceNotFound(ctx, state, ctx.params.id!);
    }
    const value =
      sp.id === tenant.servicePrincipalObjectId
        ? state.knobs.grantedRoles
            .filter((role) => O365_MANAGEMENT_ROLES[role] !== undefined)
            .map((role) => ({
              id: seededGuid(seed, "app-role-assignment", role),
              appRoleId: O365_MANAGEMENT_ROLES[role],
              createdDateTime: new Date(
                state.knobs.secretExpiresAtMs - 180 * 86_400_000,
              ).toISOString(),
              principalDisplayName: EMULATED_APP_DISPLAY_NAME,
              principalId: tenant.servicePrincipalObjectId,
              principalType: "ServicePrincipal",
              resourceDisplayName: "Office 365 Management APIs",
              resourceId: o365SpId,
            }))
        : [];
    sendJson(ctx, 200, {
      "@odata.context": `${state.url}/v1.0/$metadata#servicePrincipals('${sp.id}')/appRoleAssignments`,
      value,
    });
  });

  route(/^\/v1\.0\/admin\/serviceAnnouncement\/healthOverviews$/, (ctx) => {
    sendJson(ctx, 200, {
      "@odata.context": `${state.url}/v1.0/$metadata#admin/serviceAnnouncement/healthOverviews`,
      value: HEALTH_SERVICES.map(([id, service]) => ({
        service,
        status: "serviceOperational",
        id,
      })),
    });
  });
}
