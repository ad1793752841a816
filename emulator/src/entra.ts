import { randomUUID } from "node:crypto";
import { isArmAudience, isEmulatedTenant } from "./arm";
import {
  KNOWN_AUDIENCES,
  MANAGEMENT_AUDIENCES,
  normalizeAudience,
  TOKEN_EXCHANGE_AUDIENCES,
} from "./audiences";
import {
  type AssertionProblem,
  isCertificateAssertion,
  registrationWindow,
  verifyCertificateAssertion,
} from "./certificate";
import { graphAppRoleClaims, passwordGrant } from "./graphDirectory";
import { type Handler, type RequestContext, type Router, readBody, sendJson } from "./http";
import type { TokenClaims } from "./jwt";
import { DEFAULT_CERTIFICATE_LIFETIME_MS } from "./knobs";
import type { EmulatorState } from "./state";

/**
 * Emulated Entra ID: OIDC discovery, the v2.0 (and v1) token endpoint for client credentials
 * (secret, certificate-signed client assertion, or federated token as client assertion), and an
 * App Service style managed-identity endpoint whose tokens the app accepts as a federated
 * credential. Errors use Entra's JSON shape and AADSTS codes.
 */

/** Lifetime of issued tokens; Entra's samples show expires_in 3599. */
export const TOKEN_LIFETIME_SECONDS = 3599;

const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const MAX_FORM_BYTES = 64 * 1024;

interface EntraError {
  status: number;
  error: string;
  code: number;
  description: string;
}

function sendEntraError(ctx: RequestContext, state: EmulatorState, failure: EntraError): void {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date(state.now())
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
  state.counters.tokenFailures++;
  ctx.code = `AADSTS${failure.code}`;
  sendJson(
    ctx,
    failure.status,
    {
      error: failure.error,
      error_description: `AADSTS${failure.code}: ${failure.description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [failure.code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `${state.url}/error?code=${failure.code}`,
    },
    { "Cache-Control": "no-store, no-cache", Pragma: "no-cache" },
  );
}

function unknownTenant(tenant: string): EntraError {
  return {
    status: 400,
    error: "invalid_request",
    code: 90002,
    description: `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
  };
}

/** Registers the Entra ID routes. */
export function registerEntra(router: Router, state: EmulatorState): void {
  const isTenant = (tenant: string) => isEmulatedTenant(state, tenant);

  const openIdConfiguration =
    (version: "v1" | "v2"): Handler =>
    (ctx) => {
      const tenant = ctx.params.tenant!;
      if (!isTenant(tenant)) return sendEntraError(ctx, state, unknownTenant(tenant));
      const base = `${state.url}/${state.tenant.tenantId}`;
      const v = version === "v2" ? "/v2.0" : "";
      sendJson(ctx, 200, {
        token_endpoint: `${base}/oauth2${v}/token`,
        token_endpoint_auth_methods_supported: [
          "client_secret_post",
          "private_key_jwt",
          "client_secret_basic",
        ],
        jwks_uri: `${base}/discovery${v}/keys`,
        response_modes_supported: ["query", "fragment", "form_post"],
        subject_types_supported: ["pairwise"],
        id_token_signing_alg_values_supported: ["RS256"],
        response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
        scopes_supported: ["openid", "profile", "email", "offline_access"],
        // MSAL requires the issuer to share scheme and host with the authority.
        issuer: version === "v2" ? `${base}/v2.0` : `${base}/`,
        request_uri_parameter_supported: false,
        userinfo_endpoint: `${state.url}/oidc/userinfo`,
        authorization_endpoint: `${base}/oauth2${v}/authorize`,
        device_authorization_endpoint: `${base}/oauth2${v}/devicecode`,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: `${base}/oauth2${v}/logout`,
        claims_supported: ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid", "roles"],
        tenant_region_scope: "EU",
        cloud_instance_name: "auditbridge.emulator",
        cloud_graph_host_name: "graph.windows.net",
        msgraph_host: "graph.microsoft.com",
      });
    };

  router.add(
    "GET",
    /^\/(?<tenant>[^/]+)\/v2\.0\/\.well-known\/openid-configuration$/,
    openIdConfiguration("v2"),
  );
  router.add(
    "GET",
    /^\/(?<tenant>[^/]+)\/\.well-known\/openid-configuration$/,
    openIdConfiguration("v1"),
  );
  router.add("GET", /^\/(?<tenant>[^/]+)\/discovery(?:\/v2\.0)?\/keys$/, (ctx) => {
    // Emulator tokens are HMAC-signed with a process-local key, so there is no public key to publish.
    sendJson(ctx, 200, { keys: [] });
  });

  router.add("POST", /^\/(?<tenant>[^/]+)\/oauth2\/v2\.0\/token$/, (ctx) =>
    tokenEndpoint(ctx, state, "v2"),
  );
  router.add("POST", /^\/(?<tenant>[^/]+)\/oauth2\/token$/, (ctx) =>
    tokenEndpoint(ctx, state, "v1"),
  );
  router.add("GET", /^\/msi\/token$/, (ctx) => managedIdentityEndpoint(ctx, state));
}

async function tokenEndpoint(
  ctx: RequestContext,
  state: EmulatorState,
  version: "v1" | "v2",
): Promise<void> {
  const tenant = ctx.params.tenant!;
  const body = await readBody(ctx.req, { maxWireBytes: MAX_FORM_BYTES });
  const form = new URLSearchParams(body.toString("utf8"));
  if (!isEmulatedTenant(state, tenant)) {
    return sendEntraError(ctx, state, unknownTenant(tenant));
  }
  const grantType = form.get("grant_type");
  if (grantType === "password") {
    return passwordGrant(ctx, state, form, tenant.toLowerCase(), (a) => isArmAudience(state, a));
  }
  if (grantType !== "client_credentials") {
    return sendEntraError(ctx, state, {
      status: 400,
      error: "unsupported_grant_type",
      code: 70003,
      description: `The app requested an unsupported grant type '${grantType ?? ""}'. The emulator supports client_credentials only.`,
    });
  }
  const clientId = form.get("client_id");
  if (!clientId) {
    return sendEntraError(ctx, state, {
      status: 400,
      error: "invalid_request",
      code: 900144,
      description: "The request body must contain the following parameter: 'client_id'.",
    });
  }
  if (clientId.toLowerCase() !== state.tenant.clientId.toLowerCase()) {
    return sendEntraError(ctx, state, {
      status: 400,
      error: "unauthorized_client",
      code: 700016,
      description: `Application with identifier '${clientId}' was not found in the directory '${state.tenant.tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    });
  }

  const credentialFailure = checkClientCredential(form, state);
  if (credentialFailure) return sendEntraError(ctx, state, credentialFailure);

  let audience: string;
  if (version === "v2") {
    const scope = form.get("scope") ?? "";
    if (!/\/\.default$/.test(scope.trim()) || /\s/.test(scope.trim())) {
      return sendEntraError(ctx, state, {
        status: 400,
        error: "invalid_scope",
        code: 1002012,
        description: `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      });
    }
    audience = normalizeAudience(scope.trim().replace(/\/\.default$/, ""));
  } else {
    audience = normalizeAudience(form.get("resource") ?? "");
  }
  if (!KNOWN_AUDIENCES.has(audience) && !isArmAudience(state, audience)) {
    return sendEntraError(ctx, state, {
      status: 400,
      error: "invalid_resource",
      code: 500011,
      description: `The resource principal named ${audience} was not found in the tenant named ${state.tenant.tenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
    });
  }
  const token = issueToken(state, {
    audience,
    subject: state.tenant.servicePrincipalObjectId,
    appId: state.tenant.clientId,
    // Only Management API tokens carry the Office 365 Management APIs roles granted to the app.
    // Graph tokens carry the Graph application permissions granted to it.
    roles: MANAGEMENT_AUDIENCES.has(audience)
      ? [...state.knobs.grantedRoles]
      : graphAppRoleClaims(state, audience),
    version,
  });
  state.counters.tokensIssued++;
  sendJson(
    ctx,
    200,
    {
      token_type: "Bearer",
      expires_in: TOKEN_LIFETIME_SECONDS,
      ext_expires_in: TOKEN_LIFETIME_SECONDS,
      ...(version === "v1"
        ? {
            expires_on: String(Math.floor(state.now() / 1000) + TOKEN_LIFETIME_SECONDS),
            resource: audience,
          }
        : {}),
      access_token: token,
    },
    { "Cache-Control": "no-store, no-cache", Pragma: "no-cache" },
  );
}

/** Checks the secret or client assertion; returns the Entra error to answer, or undefined. */
function checkClientCredential(
  form: URLSearchParams,
  state: EmulatorState,
): EntraError | undefined {
  const secret = form.get("client_secret");
  const assertion = form.get("client_assertion");
  const appId = state.tenant.clientId;
  if (secret !== null) {
    if (secret !== state.tenant.clientSecret) {
      return {
        status: 401,
        error: "invalid_client",
        code: 7000215,
        description: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${appId}'.`,
      };
    }
    if (state.now() >= state.knobs.secretExpiresAtMs) {
      return {
        status: 401,
        error: "invalid_client",
        code: 7000222,
        description: `The provided client secret keys for app '${appId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
      };
    }
    return undefined;
  }
  if (assertion !== null) {
    if (form.get("client_assertion_type") !== JWT_BEARER) {
      return {
        status: 400,
        error: "invalid_request",
        code: 50027,
        description: `client_assertion_type must be '${JWT_BEARER}'.`,
      };
    }
    if (isCertificateAssertion(assertion)) return checkCertificateAssertion(assertion, state);
    const check = state.signer.verify(assertion, state.now());
    if (!check.ok) {
      return {
        status: 401,
        error: "invalid_client",
        code: check.problem === "expired" ? 700024 : 700027,
        description:
          check.problem === "expired"
            ? "Client assertion is not within its valid time range."
            : "Client assertion failed signature validation.",
      };
    }
    const { claims } = check;
    const trusted =
      TOKEN_EXCHANGE_AUDIENCES.has(normalizeAudience(claims.aud)) &&
      claims.sub === state.managedIdentity.principalId &&
      claims.tid === state.tenant.tenantId;
    if (!trusted) {
      return {
        status: 401,
        error: "invalid_client",
        code: 70021,
        description: `No matching federated identity record found for presented assertion. Assertion Issuer: '${claims.iss}'. Assertion Subject: '${claims.sub}'. Assertion Audience: '${claims.aud}'.`,
      };
    }
    return undefined;
  }
  return {
    status: 401,
    error: "invalid_client",
    code: 7000218,
    description:
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  };
}

/** An Entra `invalid_client` answer (HTTP 401). */
function invalidClient(code: number, description: string): EntraError {
  return { status: 401, error: "invalid_client", code, description };
}

/** Entra's `M/D/YYYY H:MM:SS` style for key dates in error descriptions, in UTC. */
function keyDate(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/**
 * Checks a certificate-signed client assertion (private_key_jwt) against the app's registered
 * certificates. Codes as Entra answers them: AADSTS700027 for an unknown key, a bad signature
 * or an expired key registration ("[Reason - The key used is expired.]"), AADSTS700024 for an
 * assertion outside its lifetime, AADSTS700023 for a wrong audience, AADSTS700021 when iss/sub
 * is not the client id (https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes).
 */
function checkCertificateAssertion(
  assertion: string,
  state: EmulatorState,
): EntraError | undefined {
  const appId = state.tenant.clientId;
  const authority = `${state.url}/${state.tenant.tenantId}`;
  const nowMs = state.now();
  const check = verifyCertificateAssertion(assertion, {
    clientId: appId,
    audiences: [
      `${authority}/oauth2/v2.0/token`,
      `${authority}/oauth2/token`,
      `${authority}/v2.0`,
      authority,
    ],
    nowMs,
    certificates: state.certificates,
  });
  if (!check.ok) return certificateFailure(check.problem, state, nowMs);
  if (nowMs >= state.knobs.certificateExpiresAtMs) {
    const window = registrationWindow(
      state.knobs.certificateExpiresAtMs,
      nowMs,
      DEFAULT_CERTIFICATE_LIFETIME_MS,
    );
    return invalidClient(
      700027,
      `Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '${check.value.certificate.thumbprint}', Found key 'Start=${keyDate(window.startMs)}, End=${keyDate(window.endMs)}']`,
    );
  }
  return undefined;
}

function certificateFailure(
  problem: AssertionProblem,
  state: EmulatorState,
  nowMs: number,
): EntraError {
  const appId = state.tenant.clientId;
  switch (problem.kind) {
    case "malformed":
      return {
        status: 400,
        error: "invalid_request",
        code: 50027,
        description: `JWT token is invalid or malformed (${problem.detail}).`,
      };
    case "unsupported-algorithm":
      return invalidClient(
        700027,
        `Client assertion failed signature validation. [Reason - The signing algorithm '${problem.alg}' is not supported; sign with RS256 or PS256.]`,
      );
    case "unknown-key":
      return invalidClient(
        700027,
        `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${problem.thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${appId}'.]`,
      );
    case "bad-signature":
      return invalidClient(
        700027,
        `Client assertion contains an invalid signature. [Reason - The key was found, but the signature does not verify with it., Thumbprint of key used by client: '${problem.thumbprint}']`,
      );
    case "wrong-audience":
      return invalidClient(
        700023,
        `Client assertion audience claim does not match Realm issuer. Audience in the assertion: '${problem.audience}'; expected '${state.url}/${state.tenant.tenantId}/oauth2/v2.0/token'.`,
      );
    case "wrong-issuer":
      return invalidClient(
        700021,
        `Client assertion application identifier doesn't match 'client_id' parameter. Assertion issuer: '${problem.issuer}', subject: '${problem.subject}'.`,
      );
    case "not-in-time-range":
      return invalidClient(
        700024,
        `Client assertion is not within its valid time range. Current time: ${new Date(nowMs).toISOString()}.`,
      );
  }
}

interface IssueOptions {
  audience: string;
  subject: string;
  appId: string;
  roles?: string[];
  version: "v1" | "v2";
}

/** Signs an access token for the emulated tenant. */
export function issueToken(state: EmulatorState, options: IssueOptions): string {
  const nowSeconds = Math.floor(state.now() / 1000);
  const claims: TokenClaims = {
    aud: options.audience,
    iss:
      options.version === "v2"
        ? `${state.url}/${state.tenant.tenantId}/v2.0`
        : `${state.url}/${state.tenant.tenantId}/`,
    iat: nowSeconds,
    nbf: nowSeconds,
    exp: nowSeconds + TOKEN_LIFETIME_SECONDS,
    tid: state.tenant.tenantId,
    sub: options.subject,
    oid: options.subject,
    appid: options.appId,
    azp: options.appId,
    idtyp: "app",
    ver: options.version === "v2" ? "2.0" : "1.0",
    uti: randomUUID().replace(/-/g, ""),
  };
  if (options.roles) claims.roles = options.roles;
  return state.signer.sign(claims);
}

function sendManagedIdentityError(ctx: RequestContext, status: number, message: string): void {
  ctx.code = `MSI${status}`;
  sendJson(ctx, status, { statusCode: status, message, correlationId: randomUUID() });
}

/** App Service (2019-08-01) managed identity endpoint, used by ManagedIdentityCredential. */
function managedIdentityEndpoint(ctx: RequestContext, state: EmulatorState) {
  const mi = state.managedIdentity;
  if (ctx.req.headers["x-identity-header"] !== mi.identityHeader) {
    return sendManagedIdentityError(
      ctx,
      401,
      "X-IDENTITY-HEADER is missing or does not match IDENTITY_HEADER.",
    );
  }
  if (ctx.url.searchParams.get("api-version") !== "2019-08-01") {
    return sendManagedIdentityError(ctx, 400, "api-version must be 2019-08-01.");
  }
  const resource = normalizeAudience(ctx.url.searchParams.get("resource") ?? "");
  if (!KNOWN_AUDIENCES.has(resource)) {
    return sendManagedIdentityError(ctx, 400, `resource '${resource}' is not a known audience.`);
  }
  const clientId = ctx.url.searchParams.get("client_id");
  if (clientId !== null && clientId.toLowerCase() !== mi.clientId.toLowerCase()) {
    return sendManagedIdentityError(
      ctx,
      400,
      `No user-assigned managed identity with client_id '${clientId}' is assigned to this resource.`,
    );
  }
  const token = issueToken(state, {
    audience: resource,
    subject: mi.principalId,
    appId: mi.clientId,
    version: "v2",
  });
  state.counters.tokensIssued++;
  sendJson(ctx, 200, {
    access_token: token,
    expires_on: String(Math.floor(state.now() / 1000) + TOKEN_LIFETIME_SECONDS),
    resource,
    token_type: "Bearer",
    client_id: mi.clientId,
  });
}
