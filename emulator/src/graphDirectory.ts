import { randomUUID } from "node:crypto";
import { GRAPH_AUDIENCES, KNOWN_AUDIENCES, normalizeAudience } from "./audiences";
import { type RequestContext, type Router, sendJson } from "./http";
import { bearerToken, type TokenClaims } from "./jwt";
import { emulatedUser, GLOBAL_ADMINISTRATOR_TEMPLATE_ID } from "./preflightKnobs";
import { seededGuid } from "./random";
import type { EmulatorState } from "./state";

/**
 * Emulated Microsoft Graph directory reads preflight makes, and a signed-in user for them:
 * - `GET /v1.0/me/memberOf` and `/v1.0/me/transitiveMemberOf`: the user's directory roles
 *   (https://learn.microsoft.com/en-us/graph/api/user-list-transitivememberof); an app-only
 *   token gets Graph's 400 "/me request is only valid with delegated authentication flow.";
 * - `GET /v1.0/servicePrincipals?$filter=appId eq '…'`
 *   (https://learn.microsoft.com/en-us/graph/api/serviceprincipal-list);
 * - the resource owner password grant (`grant_type=password`) for the emulated user, so a test
 *   can sign in as a person through `DefaultAzureCredential`'s environment credential
 *   (AZURE_USERNAME / AZURE_PASSWORD) and get a delegated token.
 */

/** Well-known public client id of the Azure CLI, which `az login` signs users in with. */
export const AZURE_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

/** Display names of the directory role templates the emulator can hand out. */
const ROLE_NAMES: Readonly<Record<string, string>> = {
  [GLOBAL_ADMINISTRATOR_TEMPLATE_ID]: "Global Administrator",
  "158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
  "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
  "e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
  "fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
  "f2ef992c-3afb-46b9-b7cf-a126ee74c451": "Global Reader",
};

/** Lifetime of tokens issued for the password grant (same as Entra's samples). */
const USER_TOKEN_LIFETIME_SECONDS = 3599;

function graphError(ctx: RequestContext, status: number, code: string, message: string): void {
  sendJson(ctx, status, {
    error: {
      code,
      message,
      innerError: { "request-id": randomUUID(), "client-request-id": randomUUID() },
    },
  });
}

/** Registers the Graph directory routes. */
export function registerGraphDirectory(router: Router, state: EmulatorState): void {
  const verified = (ctx: RequestContext): TokenClaims | undefined => {
    const check = state.signer.verify(bearerToken(ctx.req.headers.authorization), state.now());
    if (!check.ok) {
      graphError(ctx, 401, "InvalidAuthenticationToken", "Access token validation failure.");
      return undefined;
    }
    if (!GRAPH_AUDIENCES.has(normalizeAudience(check.claims.aud))) {
      graphError(
        ctx,
        401,
        "InvalidAuthenticationToken",
        "Access token validation failure. Invalid audience.",
      );
      return undefined;
    }
    return check.claims;
  };

  const memberOf = (ctx: RequestContext) => {
    const claims = verified(ctx);
    if (!claims) return;
    if (claims.idtyp === "app" || claims.scp === undefined) {
      return graphError(
        ctx,
        400,
        "BadRequest",
        "/me request is only valid with delegated authentication flow.",
      );
    }
    const roles = state.knobs.preflight.userDirectoryRoleTemplateIds.map((templateId) => ({
      "@odata.type": "#microsoft.graph.directoryRole",
      id: seededGuid(state.seed, "directory-role", templateId),
      deletedDateTime: null,
      description: ROLE_NAMES[templateId] ?? "Directory role",
      displayName: ROLE_NAMES[templateId] ?? "Directory role",
      roleTemplateId: templateId,
    }));
    sendJson(ctx, 200, {
      "@odata.context": `${state.url}/v1.0/$metadata#directoryObjects`,
      value: [
        {
          "@odata.type": "#microsoft.graph.group",
          id: seededGuid(state.seed, "group", "all-staff"),
          displayName: "All staff",
          securityEnabled: true,
        },
        ...roles,
      ],
    });
  };
  router.add("GET", /^\/v1\.0\/me\/(?:transitiveMemberOf|memberOf)$/, memberOf);

  router.add("GET", /^\/v1\.0\/servicePrincipals$/, (ctx) => {
    if (!verified(ctx)) return;
    const filter = ctx.url.searchParams.get("$filter") ?? "";
    const wanted = /^appId eq '([^']+)'$/i.exec(filter.trim())?.[1];
    if (!wanted) {
      return graphError(
        ctx,
        400,
        "Request_UnsupportedQuery",
        "The emulator supports only $filter=appId eq '<guid>' on servicePrincipals.",
      );
    }
    const present =
      wanted.toLowerCase() === "c5393580-f805-4401-95e8-94b7a6ef2fc2"
        ? state.knobs.preflight.o365ServicePrincipalPresent
        : wanted.toLowerCase() === state.tenant.clientId.toLowerCase();
    sendJson(ctx, 200, {
      "@odata.context": `${state.url}/v1.0/$metadata#servicePrincipals`,
      value: present
        ? [
            {
              id: seededGuid(state.seed, "service-principal-by-app-id", wanted.toLowerCase()),
              appId: wanted,
              displayName:
                wanted.toLowerCase() === "c5393580-f805-4401-95e8-94b7a6ef2fc2"
                  ? "Office 365 Management APIs"
                  : "AuditBridge audit reader (emulated)",
              servicePrincipalType: "Application",
            },
          ]
        : [],
    });
  });
}

/**
 * Claims the emulator adds to an app-only token of the caller: Graph tokens carry the Graph
 * application permissions granted to the service principal (`roles`), as Entra issues them.
 */
export function graphAppRoleClaims(state: EmulatorState, audience: string): string[] | undefined {
  return GRAPH_AUDIENCES.has(normalizeAudience(audience))
    ? [...state.knobs.preflight.graphAppRoles]
    : undefined;
}

/**
 * The resource owner password grant for the emulated user (`grant_type=password`): a delegated
 * token (`idtyp` user, `scp`) plus an id token and client_info, as MSAL expects them.
 * `isAudienceKnown` extends the static audiences (e.g. the emulator's own URL for ARM).
 */
export function passwordGrant(
  ctx: RequestContext,
  state: EmulatorState,
  form: URLSearchParams,
  tenant: string,
  isAudienceKnown: (audience: string) => boolean,
): void {
  const user = emulatedUser(state.seed);
  const clientId = form.get("client_id") ?? "";
  const fail = (status: number, error: string, code: number, description: string) => {
    ctx.code = `AADSTS${code}`;
    state.counters.tokenFailures++;
    sendJson(ctx, status, {
      error,
      error_description: `AADSTS${code}: ${description}`,
      error_codes: [code],
    });
  };
  if (![AZURE_CLI_CLIENT_ID, state.tenant.clientId].includes(clientId.toLowerCase())) {
    fail(
      400,
      "unauthorized_client",
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`,
    );
    return;
  }
  if (
    (form.get("username") ?? "").toLowerCase() !== user.userPrincipalName ||
    form.get("password") !== user.password
  ) {
    fail(
      400,
      "invalid_grant",
      50126,
      "Error validating credentials due to invalid username or password.",
    );
    return;
  }
  const scopes = (form.get("scope") ?? "").split(/\s+/).filter((s) => s.endsWith("/.default"));
  const audience = normalizeAudience((scopes[0] ?? "").replace(/\/\.default$/, ""));
  if (!(KNOWN_AUDIENCES.has(audience) || isAudienceKnown(audience))) {
    fail(
      400,
      "invalid_resource",
      500011,
      `The resource principal named ${audience} was not found in the tenant named ${tenant}.`,
    );
    return;
  }
  const nowSeconds = Math.floor(state.now() / 1000);
  const issuer = `${state.url}/${tenant}/v2.0`;
  const access: TokenClaims = {
    aud: audience,
    iss: issuer,
    iat: nowSeconds,
    nbf: nowSeconds,
    exp: nowSeconds + USER_TOKEN_LIFETIME_SECONDS,
    tid: tenant,
    sub: user.objectId,
    oid: user.objectId,
    appid: clientId,
    azp: clientId,
    idtyp: "user",
    scp: "user_impersonation",
    upn: user.userPrincipalName,
    ver: "2.0",
    uti: randomUUID().replace(/-/g, ""),
  };
  const idToken = state.signer.sign({
    aud: clientId,
    iss: issuer,
    iat: nowSeconds,
    nbf: nowSeconds,
    exp: nowSeconds + USER_TOKEN_LIFETIME_SECONDS,
    tid: tenant,
    sub: user.objectId,
    oid: user.objectId,
    preferred_username: user.userPrincipalName,
    name: "Emulated Admin",
    ver: "2.0",
    uti: randomUUID().replace(/-/g, ""),
  });
  state.counters.tokensIssued++;
  sendJson(
    ctx,
    200,
    {
      token_type: "Bearer",
      scope: `${audience}/.default`,
      expires_in: USER_TOKEN_LIFETIME_SECONDS,
      ext_expires_in: USER_TOKEN_LIFETIME_SECONDS,
      access_token: state.signer.sign(access),
      id_token: idToken,
      client_info: Buffer.from(JSON.stringify({ uid: user.objectId, utid: tenant })).toString(
        "base64url",
      ),
    },
    { "Cache-Control": "no-store, no-cache", Pragma: "no-cache" },
  );
}
