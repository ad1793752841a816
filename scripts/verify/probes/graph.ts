/**
 * The Microsoft Graph reads verify makes with the caller's credential: the app registration
 * (credential end dates), its app role assignments on the Office 365 Management APIs, and the
 * service health overviews.
 * https://learn.microsoft.com/en-us/graph/api/serviceannouncement-list-healthoverviews
 * https://learn.microsoft.com/en-us/graph/api/serviceprincipal-list-approleassignments
 */
import type { TokenCredential } from "@azure/identity";
import { type AuthenticationProvider, Client, GraphError } from "@microsoft/microsoft-graph-client";
import { entraErrorCode } from "../../../domain/apiErrors";
import { scopeFor } from "../../../domain/clouds";
import { AuditBridgeError } from "../../../domain/errors";

/** appId of the "Office 365 Management APIs" service principal, the same in every tenant. */
export const O365_MANAGEMENT_APP_ID = "c5393580-f805-4401-95e8-94b7a6ef2fc2";

/** A password or key credential of an application, as Graph returns it. */
export interface GraphAppCredential {
  keyId?: string;
  displayName?: string | null;
  startDateTime?: string | null;
  endDateTime?: string | null;
}

/** The fields of `GET /applications(appId='...')` verify reads. */
export interface GraphApplication {
  id: string;
  appId: string;
  displayName?: string;
  passwordCredentials?: GraphAppCredential[];
  keyCredentials?: GraphAppCredential[];
}

interface GraphServicePrincipal {
  id: string;
  appId: string;
  appRoles?: Array<{ id: string; value: string | null }>;
}

interface GraphAppRoleAssignment {
  appRoleId: string;
  resourceId: string;
}

/** One entry of `GET /admin/serviceAnnouncement/healthOverviews`. */
export interface ServiceHealthOverview {
  id: string;
  service: string;
  status: string;
}

/** Options for {@link createGraphClient}. */
export interface GraphClientOptions {
  credential: TokenCredential;
  /** Graph base URL, e.g. https://graph.microsoft.com. */
  endpoint: string;
  /** Token audience, e.g. https://graph.microsoft.com (differs from endpoint only in tests). */
  audience: string;
  /** Tenant the tokens are requested for (the Microsoft 365 tenant). */
  tenantId: string;
  abortSignal?: AbortSignal;
}

/** A failed Graph read, reduced to a status and Graph's error code (never a token). */
export class GraphReadError extends AuditBridgeError {
  override readonly name = "GraphReadError";
  constructor(
    /** HTTP status; 0 when the caller got no Graph token. */
    readonly status: number,
    /** Graph's error code, or the AADSTS code of a failed token request. */
    code: string | null,
    message: string,
  ) {
    super(message, { code: code ?? undefined });
  }
}

/** Type guard for {@link GraphReadError}. */
export function isGraphReadError(error: unknown): error is GraphReadError {
  return error instanceof GraphReadError;
}

/** Graph client whose auth provider asks the caller's credential for `<audience>/.default`. */
export function createGraphClient(options: GraphClientOptions): GraphReader {
  const authProvider: AuthenticationProvider = {
    async getAccessToken() {
      const token = await options.credential.getToken(scopeFor(options.audience), {
        tenantId: options.tenantId,
        abortSignal: options.abortSignal,
      });
      if (!token) throw new GraphReadError(0, null, "no Graph token");
      return token.token;
    },
  };
  const client = Client.initWithMiddleware({
    authProvider,
    baseUrl: options.endpoint.replace(/\/+$/, ""),
    defaultVersion: "v1.0",
    // The SDK attaches the bearer token only to Graph hosts it knows, or to these.
    customHosts: new Set([new URL(options.endpoint).hostname]),
  });
  return new GraphReader(client, options.abortSignal);
}

/** The typed Graph reads verify makes. Every method throws {@link GraphReadError}. */
export class GraphReader {
  constructor(
    private readonly client: Client,
    private readonly abortSignal?: AbortSignal,
  ) {}

  private async get<T>(path: string): Promise<T> {
    try {
      const request = this.client.api(path);
      if (this.abortSignal) request.option("signal", this.abortSignal);
      return (await request.get()) as T;
    } catch (error) {
      throw toGraphReadError(error);
    }
  }

  /** `GET /applications(appId='{appId}')`. */
  application(appId: string): Promise<GraphApplication> {
    return this.get(`/applications(appId='${encodeURIComponent(appId)}')`);
  }

  /**
   * Role values (e.g. "ActivityFeed.Read") the app's service principal holds on the Office 365
   * Management APIs. Role ids are resolved through that service principal's `appRoles`, since
   * wrong GUIDs circulate in public samples.
   */
  async managementRolesGranted(appId: string): Promise<string[]> {
    const [client, resource] = await Promise.all([
      this.get<GraphServicePrincipal>(`/servicePrincipals(appId='${encodeURIComponent(appId)}')`),
      this.get<GraphServicePrincipal>(`/servicePrincipals(appId='${O365_MANAGEMENT_APP_ID}')`),
    ]);
    const assignments = await this.get<{ value?: GraphAppRoleAssignment[] }>(
      `/servicePrincipals/${encodeURIComponent(client.id)}/appRoleAssignments`,
    );
    const roleNames = new Map((resource.appRoles ?? []).map((role) => [role.id, role.value]));
    return (assignments.value ?? [])
      .filter((assignment) => assignment.resourceId === resource.id)
      .map((assignment) => roleNames.get(assignment.appRoleId) ?? assignment.appRoleId)
      .filter((value): value is string => typeof value === "string");
  }

  /** `GET /admin/serviceAnnouncement/healthOverviews`. */
  async healthOverviews(): Promise<ServiceHealthOverview[]> {
    const body = await this.get<{ value?: ServiceHealthOverview[] }>(
      "/admin/serviceAnnouncement/healthOverviews",
    );
    return body.value ?? [];
  }
}

function toGraphReadError(error: unknown): GraphReadError {
  if (isGraphReadError(error)) return error;
  if (error instanceof GraphError && error.statusCode < 100) {
    // The SDK reports a failure of our auth provider as a GraphError with statusCode -1.
    const code = entraErrorCode(error.message) ?? error.code ?? null;
    return new GraphReadError(0, code, `no Graph token for the caller${code ? ` (${code})` : ""}`);
  }
  if (error instanceof GraphError) {
    return new GraphReadError(
      error.statusCode,
      error.code ?? null,
      `${error.statusCode} ${error.code ?? ""}`.trim(),
    );
  }
  const name = error instanceof Error ? error.name : "Error";
  const code = entraErrorCode(error instanceof Error ? error.message : String(error));
  return new GraphReadError(0, code ?? null, code ? `no Graph token (${code})` : `${name}`);
}
