/**
 * The caller's identity and the clients preflight reads with: `DefaultAzureCredential` (with
 * instance discovery off for a non-Microsoft authority host), the Azure SDK management clients
 * pointed at `--arm-endpoint`, and the Graph client with the override host in `customHosts`.
 * Also turns any SDK or token error into a short, secret-free description.
 */
import { AuthorizationManagementClient } from "@azure/arm-authorization";
import { KeyVaultManagementClient } from "@azure/arm-keyvault";
import { ResourceManagementClient } from "@azure/arm-resources";
import { type AccessToken, DefaultAzureCredential, type TokenCredential } from "@azure/identity";
import { type AuthenticationProvider, Client, GraphError } from "@microsoft/microsoft-graph-client";
import { scopeFor } from "../../domain/clouds";
import type { PreflightConfig } from "./inputs";

/** The caller's credential: the developer's or CI's own identity, never the app's. */
export function createCallerCredential(config: PreflightConfig): TokenCredential {
  return new DefaultAzureCredential({
    authorityHost: config.authorityHost,
    disableInstanceDiscovery: config.disableInstanceDiscovery,
    // The Azure subscription's tenant and the Microsoft 365 tenant may differ; each request names its tenant.
    additionallyAllowedTenants: ["*"],
  });
}

/** A credential that always asks for tokens of `tenantId` (what ARM or Graph of that tenant accepts). */
export function inTenant(credential: TokenCredential, tenantId: string): TokenCredential {
  return {
    getToken: (scopes, options) => credential.getToken(scopes, { ...options, tenantId }),
  };
}

/** The management clients preflight reads with, all for one subscription. */
export interface ArmClients {
  resources: ResourceManagementClient;
  authorization: AuthorizationManagementClient;
  keyVault: KeyVaultManagementClient;
}

/** Management clients for the subscription, against `config.armEndpoint`. */
export function createArmClients(
  config: PreflightConfig,
  credential: TokenCredential,
  subscriptionId: string = config.subscriptionId,
): ArmClients {
  const armCredential = inTenant(credential, config.azureTenantId);
  const common = { endpoint: config.armEndpoint, credentialScopes: [config.armScope] };
  return {
    resources: new ResourceManagementClient(armCredential, subscriptionId, common),
    authorization: new AuthorizationManagementClient(armCredential, subscriptionId, common),
    keyVault: new KeyVaultManagementClient(armCredential, subscriptionId, {
      endpoint: config.armEndpoint,
      credentials: { scopes: [config.armScope] },
    }),
  };
}

/** Graph client for the Microsoft 365 tenant, through the caller's credential. */
export function createGraphClient(config: PreflightConfig, credential: TokenCredential): Client {
  const authProvider: AuthenticationProvider = {
    async getAccessToken() {
      const token = await credential.getToken(scopeFor(config.graphAudience), {
        tenantId: config.tenantId,
      });
      if (!token) throw new Error("no Graph token");
      return token.token;
    },
  };
  return Client.initWithMiddleware({
    authProvider,
    baseUrl: config.graphEndpoint,
    defaultVersion: "v1.0",
    // The SDK attaches the bearer token only to Graph hosts it knows, or to these.
    customHosts: new Set([new URL(config.graphEndpoint).hostname]),
  });
}

/** Claims of an access token preflight reads to describe the caller (never the token itself). */
export interface CallerClaims {
  /** Object id of the user or service principal. */
  oid?: string;
  /** Application id of a service principal. */
  appid?: string;
  upn?: string;
  /** "app" for a service principal, "user" for a person (Entra's idtyp claim). */
  idtyp?: string;
  /** Delegated scopes; present only on a user's token. */
  scp?: string;
  /** Application permissions of a service principal. */
  roles?: string[];
  tid?: string;
}

/** Payload of a JWT access token, without verifying it (preflight only reads its own token). */
export function tokenClaims(token: AccessToken | string): CallerClaims {
  const raw = typeof token === "string" ? token : token.token;
  const payload = raw.split(".")[1];
  if (!payload) return {};
  try {
    const parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<
      string,
      unknown
    >;
    const text = (key: string) =>
      typeof parsed[key] === "string" ? (parsed[key] as string) : undefined;
    return {
      oid: text("oid"),
      appid: text("appid") ?? text("azp"),
      upn: text("upn") ?? text("preferred_username") ?? text("unique_name"),
      idtyp: text("idtyp"),
      scp: text("scp"),
      roles: Array.isArray(parsed.roles)
        ? parsed.roles.filter((r) => typeof r === "string")
        : undefined,
      tid: text("tid"),
    };
  } catch {
    return {};
  }
}

/** Whether the token belongs to a service principal (app-only) rather than a person. */
export function isAppOnly(claims: CallerClaims): boolean {
  return claims.idtyp === "app" || (claims.idtyp === undefined && claims.scp === undefined);
}

/** An error reduced to what a person needs: HTTP status, service code and a short message. */
export interface Failure {
  status: number | null;
  code: string | null;
  message: string;
}

/**
 * Describes an SDK, Graph or token error in one line. Tokens and secrets never appear: token
 * errors are reduced to their AADSTS code and first sentence.
 */
export function describeError(error: unknown): Failure {
  if (error instanceof GraphError) {
    if (error.statusCode < 100) {
      const code = /AADSTS\d+/.exec(error.message)?.[0] ?? null;
      return { status: null, code, message: `no Graph token${code ? ` (${code})` : ""}` };
    }
    return {
      status: error.statusCode,
      code: error.code ?? null,
      message: `HTTP ${error.statusCode}${error.code ? ` ${error.code}` : ""}`,
    };
  }
  const e = error as { statusCode?: unknown; code?: unknown; message?: unknown; name?: unknown };
  const message = typeof e.message === "string" ? e.message : String(error);
  const aadsts = /AADSTS\d+/.exec(message)?.[0];
  if (/endpoints_resolution_error/.test(message)) {
    // MSAL could not load the tenant's OpenID configuration: the tenant is unknown to this cloud.
    return {
      status: null,
      code: "endpoints_resolution_error",
      message:
        "the tenant's sign-in endpoints could not be resolved (unknown tenant, or the wrong cloud/authority host)",
    };
  }
  if (aadsts || e.name === "AuthenticationError" || e.name === "CredentialUnavailableError") {
    const sentence = oneLine(
      message.replace(/^.*?(AADSTS\d+:)/s, "$1").split(/Trace ID:|\n/)[0] ?? message,
    );
    return { status: null, code: aadsts ?? String(e.name), message: sentence };
  }
  if (typeof e.statusCode === "number") {
    return {
      status: e.statusCode,
      code: typeof e.code === "string" ? e.code : null,
      message: `HTTP ${e.statusCode}${typeof e.code === "string" ? ` ${e.code}` : ""}: ${oneLine(message)}`,
    };
  }
  if (e.name === "AbortError") return { status: null, code: "Timeout", message: "timed out" };
  return {
    status: null,
    code: typeof e.code === "string" ? e.code : null,
    message: oneLine(message),
  };
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 240 ? `${line.slice(0, 237)}...` : line;
}
