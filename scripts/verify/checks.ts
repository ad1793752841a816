/**
 * The eight verify checks and the runner that schedules them: the app's token first, everything
 * else in parallel as soon as what it depends on is known, the whole run bounded by one deadline.
 * Each check returns a {@link CheckResult}; none throws.
 */
import { type AccessToken, AuthenticationError, type TokenCredential } from "@azure/identity";
import { LogsQueryClient, LogsQueryResultStatus, type LogsTable } from "@azure/monitor-query-logs";
import { scopeFor } from "../../domain/clouds";
import type { ContentBlob } from "../../domain/records";
import { DEFAULT_TABLE_NAME } from "../../domain/table";
import { type CallerCredential, createAppCredential, createCallerCredential } from "./credentials";
import {
  createGraphClient,
  type GraphAppCredential,
  type GraphApplication,
  type GraphReader,
  isGraphReadError,
  type ServiceHealthOverview,
} from "./graph";
import type { VerifyConfig } from "./inputs";
import {
  isManagementApiError,
  listContent,
  listSubscriptions,
  MAX_RETRIES,
  type ManagementApiError,
  type ManagementApiOptions,
  type Subscription,
} from "./management";

/** Outcome of one check. `skip` means it could not run (the reason says why); it never fails a run. */
export type CheckStatus = "pass" | "warn" | "fail" | "skip";

/** Stable identifiers of the checks, in run order (part of the JSON schema). */
export const CHECK_IDS = [
  "token",
  "permissions",
  "credential-expiry",
  "audit-enabled",
  "subscriptions",
  "content",
  "records",
  "service-health",
] as const;
export type CheckId = (typeof CHECK_IDS)[number];

/** Titles shown in the table, by check id. */
export const CHECK_TITLES: Readonly<Record<CheckId, string>> = Object.freeze({
  token: "Management API token",
  permissions: "Permissions and admin consent",
  "credential-expiry": "Credential expiry",
  "audit-enabled": "Unified audit logging",
  subscriptions: "Subscriptions",
  content: "Content flowing",
  records: "Records in the workspace",
  "service-health": "Microsoft 365 service health",
});

/** The result of one check. `reason` and `fix` are single lines; `fix` is null on a pass. */
export interface CheckResult {
  id: CheckId;
  /** 1–8, the order in the issue and the table. */
  number: number;
  title: string;
  status: CheckStatus;
  reason: string;
  fix: string | null;
  details?: Record<string, unknown>;
}

/** Window of the content listing (check 6): "blobs listed in the last 24 h". */
export const CONTENT_LOOKBACK_MS = 24 * 60 * 60 * 1000;
/**
 * Check 7 warns when the workspace's newest ingestion trails the API's newest content by more
 * than this. The collector polls every 60 s by default and new rows take minutes to show in
 * Log Analytics, so an hour means the collector is stuck or far behind.
 */
export const MAX_INGESTION_LAG_MS = 60 * 60 * 1000;
/** Roles the Management API token must carry; ActivityFeed.ReadDlp only for DLP.All. */
export const REQUIRED_ROLE = "ActivityFeed.Read";
export const DLP_ROLE = "ActivityFeed.ReadDlp";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Options for {@link runChecks}. */
export interface RunChecksOptions {
  /** Clock; tests pin it. */
  nowMs?: () => number;
  /** Cancels the whole run (in addition to `config.timeoutMs`). */
  abortSignal?: AbortSignal;
  /** Credentials; default: built from the config. */
  appCredential?: TokenCredential;
  callerCredential?: CallerCredential;
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

function result(
  id: CheckId,
  status: CheckStatus,
  reason: string,
  fix: string | null,
  details?: Record<string, unknown>,
): CheckResult {
  return {
    id,
    number: CHECK_IDS.indexOf(id) + 1,
    title: CHECK_TITLES[id],
    status,
    reason,
    fix: status === "pass" ? null : fix,
    ...(details ? { details } : {}),
  };
}

/** The admin-consent URL for the app, on the configured login host. */
export function adminConsentUrl(config: VerifyConfig): string {
  return `${config.authorityHost}/${config.tenantId}/adminconsent?client_id=${config.clientId}`;
}

/** Claims verify reads from an access token. */
export interface TokenClaims {
  aud?: string;
  tid?: string;
  appid?: string;
  roles?: string[];
  exp?: number;
}

/**
 * Decodes a JWT's payload (base64url JSON) without verifying it: verify only reads the claims
 * the issuer put there. Returns an empty object for anything that is not a JWT.
 */
export function decodeJwtPayload(token: string): TokenClaims {
  const part = token.split(".")[1];
  if (!part) return {};
  try {
    const json = Buffer.from(part, "base64url").toString("utf8");
    const claims = JSON.parse(json) as unknown;
    return claims !== null && typeof claims === "object" ? (claims as TokenClaims) : {};
  } catch {
    return {};
  }
}

/** What a token request failure means, from its AADSTS code. Pure; exported for tests. */
export function describeTokenError(
  error: unknown,
  config: VerifyConfig,
  discoveryAnswer = "",
): { reason: string; fix: string; aadsts: string | null } {
  const texts: string[] = [discoveryAnswer];
  if (error instanceof AuthenticationError) {
    texts.push(error.errorResponse.errorDescription ?? "", error.errorResponse.error ?? "");
  }
  if (error instanceof Error) texts.push(error.message);
  const joined = texts.join(" ");
  const aadsts = /AADSTS(\d+)/.exec(joined)?.[1] ?? null;
  const consent = adminConsentUrl(config);
  switch (aadsts) {
    case "7000215":
      return {
        aadsts,
        reason: "wrong client secret (AADSTS7000215): Entra ID rejected the secret for this app",
        fix: `set AZURE_CLIENT_SECRET to the secret's value (not its id) of app ${config.clientId}`,
      };
    case "7000222":
      return {
        aadsts,
        reason: "the client secret has expired (AADSTS7000222)",
        fix: "create a new secret: re-run `pulumi up` for the stack (it rotates the secret) and update AZURE_CLIENT_SECRET and the collector",
      };
    case "700016":
      return {
        aadsts,
        reason: `unknown app: no application ${config.clientId} in tenant ${config.tenantId} (AADSTS700016)`,
        fix: `check --client-id and --tenant-id; a multitenant app must be consented in this tenant: ${consent}`,
      };
    case "700027":
      // Entra answers an unknown certificate, a bad signature and an expired key registration
      // all with AADSTS700027; the description's reason tells them apart.
      return /key used is expired/i.test(joined)
        ? {
            aadsts,
            reason: "the app's certificate registration has expired (AADSTS700027)",
            fix: "issue a new certificate (re-run `pulumi up` for the stack, or Entra ID → App registrations → Certificates & secrets) and point --certificate-path and the collector at it",
          }
        : {
            aadsts,
            reason:
              "Entra ID refused the certificate: it is not registered on the app or the assertion's signature is invalid (AADSTS700027)",
            fix: `check that the certificate in --certificate-path is the one uploaded to app ${config.clientId} (compare thumbprints under Certificates & secrets)`,
          };
    case "90002":
      return {
        aadsts,
        reason: `unknown tenant: ${config.tenantId} does not exist (AADSTS90002)`,
        fix: "check --tenant-id (the Microsoft 365 tenant GUID) and --cloud",
      };
    case null:
      break;
    default:
      return {
        aadsts,
        reason: `Entra ID refused the token request (AADSTS${aadsts})`,
        fix: `look up AADSTS${aadsts} at https://login.microsoftonline.com/error?code=${aadsts}`,
      };
  }
  const cause = (error as { cause?: { code?: string } } | undefined)?.cause?.code;
  const code = (error as { code?: string } | undefined)?.code;
  const network = [cause, code].find((c) => typeof c === "string" && /^E[A-Z]+/.test(c));
  if (network) {
    return {
      aadsts: null,
      reason: `cannot reach the login host ${new URL(config.authorityHost).host} (${network})`,
      fix: "check network access to the login host, or --authority-host / --cloud",
    };
  }
  if (config.appCredential.kind === "certificate" && /certificate|PEM|ENOENT|key/i.test(joined)) {
    return {
      aadsts: null,
      reason:
        "the client certificate could not be used (unreadable file or no private key in the PEM)",
      fix: "pass --certificate-path pointing at a PEM holding both the certificate and its private key",
    };
  }
  const name = error instanceof Error ? error.name : "Error";
  return {
    aadsts: null,
    reason: `the token request failed (${name})`,
    fix: "re-run with the same inputs; if it persists, check the app registration in Entra ID",
  };
}

/**
 * When MSAL fails before reaching the token endpoint (`endpoints_resolution_error`), it hides
 * Entra's answer. The OIDC discovery document carries it (AADSTS90002 for an unknown tenant),
 * so ask for it directly and return the error text, or "" when discovery works.
 */
async function discoveryError(
  config: VerifyConfig,
  error: unknown,
  signal: AbortSignal,
): Promise<string> {
  const message = error instanceof Error ? error.message : "";
  if (
    /AADSTS\d+/.test(message) ||
    !/endpoints_resolution_error|authority|metadata/i.test(message)
  ) {
    return "";
  }
  try {
    const response = await fetch(
      `${config.authorityHost}/${encodeURIComponent(config.tenantId)}/v2.0/.well-known/openid-configuration`,
      { signal },
    );
    return response.ok ? "" : (await response.text()).slice(0, 2000);
  } catch {
    return "";
  }
}

interface TokenOutcome {
  result: CheckResult;
  token: string | null;
  claims: TokenClaims;
  aadsts: string | null;
}

async function checkToken(
  config: VerifyConfig,
  credential: TokenCredential,
  signal: AbortSignal,
  nowMs: () => number,
): Promise<TokenOutcome> {
  let access: AccessToken | null;
  try {
    access = await credential.getToken(scopeFor(config.managementAudience), {
      abortSignal: signal,
    });
  } catch (error) {
    const described = signal.aborted
      ? {
          reason: "the token request did not finish in time",
          fix: "re-run with a larger --timeout",
          aadsts: null,
        }
      : describeTokenError(error, config, await discoveryError(config, error, signal));
    return {
      result: result("token", "fail", described.reason, described.fix, {
        aadsts: described.aadsts,
        credential: config.appCredential.kind,
      }),
      token: null,
      claims: {},
      aadsts: described.aadsts,
    };
  }
  if (!access) {
    return {
      result: result("token", "fail", "no token was returned", "check the app registration"),
      token: null,
      claims: {},
      aadsts: null,
    };
  }
  const claims = decodeJwtPayload(access.token);
  const details = {
    credential: config.appCredential.kind,
    audience: claims.aud ?? null,
    tenantId: claims.tid ?? null,
    roles: claims.roles ?? [],
    expiresOn: new Date(access.expiresOnTimestamp).toISOString(),
  };
  if (claims.tid && claims.tid.toLowerCase() !== config.tenantId.toLowerCase()) {
    return {
      result: result(
        "token",
        "fail",
        `the token was issued by tenant ${claims.tid}, not ${config.tenantId} (the API would answer AF20010)`,
        "pass the Microsoft 365 tenant's id as --tenant-id",
        details,
      ),
      token: null,
      claims,
      aadsts: null,
    };
  }
  const minutes = Math.round((access.expiresOnTimestamp - nowMs()) / 60_000);
  return {
    result: result(
      "token",
      "pass",
      `token for ${claims.aud ?? config.managementAudience} issued with the app's ${config.appCredential.kind === "secret" ? "client secret" : "certificate"}, valid ${minutes} more min`,
      null,
      details,
    ),
    token: access.token,
    claims,
    aadsts: null,
  };
}

function checkPermissions(
  config: VerifyConfig,
  token: TokenOutcome,
  graphRoles: Settled<string[]>,
): CheckResult {
  if (!token.token) {
    return result("permissions", "skip", "no token to inspect (check 1 failed)", null);
  }
  const required = [REQUIRED_ROLE, ...(config.contentTypes.includes("DLP.All") ? [DLP_ROLE] : [])];
  const tokenRoles = token.claims.roles ?? [];
  const missing = required.filter((role) => !tokenRoles.includes(role));
  const details: Record<string, unknown> = { required, tokenRoles };
  if (graphRoles.ok) details.graphRoles = graphRoles.value;
  else details.graphCrossCheck = `skipped: ${graphErrorText(graphRoles.error)}`;
  if (missing.length === 0) {
    const graphNote = graphRoles.ok
      ? required.every((role) => graphRoles.value.includes(role))
        ? "; Graph shows the same grants"
        : "; Graph lists fewer grants than the token (consent changed in the last hour?)"
      : "";
    return result(
      "permissions",
      "pass",
      `the token carries ${required.join(" and ")}${graphNote}`,
      null,
      details,
    );
  }
  const why = missing.includes(REQUIRED_ROLE)
    ? `the token lacks ${missing.join(" and ")}: admin consent was not granted`
    : `the token lacks ${DLP_ROLE}, needed for DLP.All: admin consent was not granted for it`;
  const graphNote =
    graphRoles.ok && missing.every((role) => graphRoles.value.includes(role))
      ? " (Graph shows the grant; it reaches tokens within minutes, re-run shortly)"
      : "";
  return result(
    "permissions",
    "fail",
    `${why}${graphNote}`,
    `a Privileged Role or Cloud Application Administrator opens ${adminConsentUrl(config)} and accepts${missing.includes(DLP_ROLE) && !missing.includes(REQUIRED_ROLE) ? ", or drop DLP.All from --content-types" : ""}`,
    details,
  );
}

function graphErrorText(error: unknown): string {
  if (isGraphReadError(error)) {
    if (error.status === 403)
      return `the caller may not read this (403 ${error.code ?? ""})`.trim();
    return error.message;
  }
  if (isAbort(error)) return "timed out";
  return error instanceof Error ? error.name : "Graph read failed";
}

/** The fix for a Graph read that failed: sign in when there was no token, else the permission. */
function graphFix(error: unknown, permissionFix: string): string {
  if (isGraphReadError(error) && error.status === 0) {
    return "sign the caller in (az login) or set AZURE_VERIFY_CLIENT_ID and AZURE_VERIFY_CLIENT_SECRET";
  }
  return permissionFix;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}

interface CredentialView {
  keyId: string | null;
  displayName: string | null;
  startDateTime: string | null;
  endDateTime: string;
  daysLeft: number;
}

function isoOrNull(text: string | null | undefined): string | null {
  const ms = text ? Date.parse(text) : Number.NaN;
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

function checkCredentialExpiry(
  config: VerifyConfig,
  token: TokenOutcome,
  application: Settled<GraphApplication>,
  now: number,
): CheckResult {
  const kind = config.appCredential.kind === "secret" ? "client secret" : "certificate";
  const rotate =
    config.stack !== null
      ? `re-run \`pulumi up --stack ${config.stack}\` to issue a new ${kind}, then update the collector`
      : `issue a new ${kind} (re-run \`pulumi up\`, or Entra ID → App registrations → Certificates & secrets) and update the collector`;
  const tokenSaysExpired = token.aadsts === "7000222";
  if (!application.ok) {
    if (tokenSaysExpired) {
      return result(
        "credential-expiry",
        "fail",
        "the client secret has expired (see check 1)",
        rotate,
      );
    }
    return result(
      "credential-expiry",
      "skip",
      `cannot read the app's credential end dates through Graph: ${graphErrorText(application.error)}`,
      graphFix(
        application.error,
        "give the caller Application.Read.All (or make it an owner of the app) to check expiry",
      ),
    );
  }
  const list: GraphAppCredential[] =
    (config.appCredential.kind === "secret"
      ? application.value.passwordCredentials
      : application.value.keyCredentials) ?? [];
  // Newest first; entries without a readable end date cannot be judged and are left out.
  const views: CredentialView[] = list
    .map((c) => ({
      keyId: c.keyId ?? null,
      displayName: c.displayName ?? null,
      startDateTime: isoOrNull(c.startDateTime),
      endDateTime: isoOrNull(c.endDateTime),
    }))
    .filter((c): c is Omit<CredentialView, "daysLeft"> => c.endDateTime !== null)
    .map((c) => ({ ...c, daysLeft: Math.floor((Date.parse(c.endDateTime) - now) / DAY_MS) }))
    .sort((a, b) => Date.parse(b.endDateTime) - Date.parse(a.endDateTime));
  const details = {
    credentials: views,
    warnDays: config.expiryWarnDays,
    rotationDays: config.rotationDays,
  };
  const newest = views[0];
  if (!newest) {
    return result(
      "credential-expiry",
      token.token ? "warn" : "fail",
      `the app lists no ${kind} with an end date`,
      rotate,
      details,
    );
  }
  const newestEnd = Date.parse(newest.endDateTime);
  const endText = newest.endDateTime.slice(0, 10);
  if (newestEnd <= now) {
    return result(
      "credential-expiry",
      "fail",
      `every ${kind} of the app has expired (the newest ended ${endText})`,
      rotate,
      details,
    );
  }
  if (tokenSaysExpired) {
    return result(
      "credential-expiry",
      "fail",
      `the client secret in use has expired, but the app has a newer one valid until ${endText}`,
      "set AZURE_CLIENT_SECRET (and the collector's secret) to the newer secret's value",
      details,
    );
  }
  if (config.rotationDays !== null && newest.startDateTime) {
    const nextRotation = Date.parse(newest.startDateTime) + config.rotationDays * DAY_MS;
    if (newestEnd < nextRotation) {
      return result(
        "credential-expiry",
        "fail",
        `the ${kind} expires ${endText}, before its next rotation on ${new Date(nextRotation).toISOString().slice(0, 10)}`,
        `make the ${kind} lifetime longer than the ${config.rotationDays}-day rotation period and re-run \`pulumi up\``,
        details,
      );
    }
  }
  if (newest.daysLeft < config.expiryWarnDays) {
    return result(
      "credential-expiry",
      "warn",
      `the ${kind} expires in ${newest.daysLeft} days (${endText}), within the ${config.expiryWarnDays}-day warning period`,
      rotate,
      details,
    );
  }
  return result(
    "credential-expiry",
    "pass",
    `the newest ${kind} is valid for ${newest.daysLeft} more days (until ${endText})`,
    null,
    details,
  );
}

const AUDIT_OFF_REASON =
  "unified audit logging is off or not provisioned yet (it can take up to 60 minutes after enabling)";
const AUDIT_OFF_FIX =
  "Purview portal → Audit → Start recording user and admin activity, or `Set-AdminAuditLogConfig -UnifiedAuditLogIngestionEnabled $true`; then wait up to 60 minutes";

/** A one-line reason and fix for a Management API failure. */
function describeManagementError(
  error: unknown,
  config: VerifyConfig,
  what: string,
): { reason: string; fix: string } {
  if (!isManagementApiError(error)) {
    if (isAbort(error))
      return { reason: `${what}: timed out`, fix: "re-run with a larger --timeout" };
    return { reason: `${what} failed`, fix: "re-run; if it persists check --management-endpoint" };
  }
  switch (error.kind) {
    case "audit-off":
      return { reason: AUDIT_OFF_REASON, fix: AUDIT_OFF_FIX };
    case "permission":
      return {
        reason:
          `${what}: the API refused the token (401 ${error.code ?? ""}: a role is missing)`.replace(
            " )",
            ")",
          ),
        fix: `an admin grants consent: ${adminConsentUrl(config)}`,
      };
    case "no-subscription":
      return {
        reason: `${what}: no subscription (AF20022)`,
        fix: "run the collector once (`npm run collector -- run --once`): it starts missing subscriptions",
      };
    case "subscription-disabled":
      return {
        reason: `${what}: the subscription was disabled (AF20023)`,
        fix: "run the collector once (`npm run collector -- run --once`): it restarts disabled subscriptions",
      };
    case "tenant":
      return {
        reason: `${what}: the API does not accept this tenant (${error.code ?? error.status})`,
        fix: "check --tenant-id and --cloud (the API host must match the tenant's cloud)",
      };
    case "throttled":
      return {
        reason: `${what}: throttled (AF429) after ${MAX_RETRIES} retries`,
        fix: "re-run in a minute; if the collector runs, it shares the tenant's request quota",
      };
    case "server":
      return {
        reason: `${what}: the API answered ${error.status} ${error.code ?? ""}`.trim(),
        fix: "re-run later; the Management Activity API had a transient error",
      };
    case "network":
      return {
        reason: `${what}: ${error.message}`,
        fix: "check network access to the API host, or --management-endpoint / --cloud",
      };
    default:
      return {
        reason: `${what}: ${error.code ?? `HTTP ${error.status}`} ${error.message}`.slice(0, 200),
        fix: "check --management-endpoint and --cloud",
      };
  }
}

/** Per-content-type listing outcome shared by checks 4–7. */
interface ContentOutcome {
  contentType: string;
  listing: Settled<ContentBlob[]>;
}

function firstAuditOff(
  list: Settled<Subscription[]> | null,
  content: ContentOutcome[] | null,
): ManagementApiError | null {
  const errors: unknown[] = [];
  if (list && !list.ok) errors.push(list.error);
  for (const c of content ?? []) if (!c.listing.ok) errors.push(c.listing.error);
  return (
    (errors.find((e) => isManagementApiError(e) && e.kind === "audit-off") as
      | ManagementApiError
      | undefined) ?? null
  );
}

function checkAuditEnabled(
  config: VerifyConfig,
  list: Settled<Subscription[]> | null,
  content: ContentOutcome[] | null,
): CheckResult {
  if (!list)
    return result("audit-enabled", "skip", "no token to probe the API (check 1 failed)", null);
  const off = firstAuditOff(list, content);
  if (off) {
    return result("audit-enabled", "fail", AUDIT_OFF_REASON, AUDIT_OFF_FIX, {
      probe: "subscriptions/list and subscriptions/content",
      answer: "DataServiceException: tenant does not exist",
    });
  }
  if (!list.ok) {
    const described = describeManagementError(list.error, config, "subscriptions/list");
    return result("audit-enabled", "skip", `could not probe: ${described.reason}`, described.fix);
  }
  const listed = (content ?? []).filter((c) => c.listing.ok && c.listing.value.length > 0).length;
  return result(
    "audit-enabled",
    "pass",
    listed > 0
      ? "the Management API serves this tenant's audit content"
      : "the Management API knows this tenant's audit store (no DataServiceException)",
    null,
    { probe: "subscriptions/list and subscriptions/content" },
  );
}

function checkSubscriptions(
  config: VerifyConfig,
  list: Settled<Subscription[]> | null,
  content: ContentOutcome[] | null,
): CheckResult {
  if (!list)
    return result("subscriptions", "skip", "no token to list subscriptions (check 1 failed)", null);
  if (!list.ok) {
    const described = describeManagementError(list.error, config, "subscriptions/list");
    return result("subscriptions", "fail", described.reason, described.fix);
  }
  const byType = new Map(list.value.map((s) => [s.contentType.toLowerCase(), s]));
  const problems: string[] = [];
  const webhookProblems: string[] = [];
  const perType: Record<string, unknown> = {};
  for (const ct of config.contentTypes) {
    const sub = byType.get(ct.toLowerCase());
    const listing = content?.find((c) => c.contentType === ct)?.listing;
    const disabledByListing =
      listing &&
      !listing.ok &&
      isManagementApiError(listing.error) &&
      listing.error.kind === "subscription-disabled";
    if (!sub) {
      problems.push(`${ct} has no subscription`);
      perType[ct] = { status: "missing" };
      continue;
    }
    const status = disabledByListing ? "disabled" : sub.status;
    perType[ct] = { status, webhook: sub.webhook?.status ?? null };
    if (status.toLowerCase() !== "enabled") problems.push(`${ct} is ${status}`);
    if (sub.webhook?.status && sub.webhook.status.toLowerCase() !== "enabled") {
      webhookProblems.push(`${ct} webhook is ${sub.webhook.status}`);
    }
  }
  const details = { contentTypes: perType };
  if (problems.length > 0) {
    return result(
      "subscriptions",
      "fail",
      problems.join("; "),
      "run the collector once (`npm run collector -- run --once`): it starts missing or disabled subscriptions (the API asks for 15 minutes between start requests)",
      details,
    );
  }
  if (webhookProblems.length > 0) {
    return result(
      "subscriptions",
      "warn",
      `all ${config.contentTypes.length} content types enabled, but ${webhookProblems.join("; ")}`,
      "send subscriptions/start with the webhook again to re-enable it (polling keeps working meanwhile)",
      details,
    );
  }
  return result(
    "subscriptions",
    "pass",
    `all ${config.contentTypes.length} configured content types are enabled`,
    null,
    details,
  );
}

function newestCreated(blobs: readonly ContentBlob[]): number | null {
  let newest: number | null = null;
  for (const blob of blobs) {
    const t = Date.parse(blob.contentCreated);
    if (Number.isFinite(t) && (newest === null || t > newest)) newest = t;
  }
  return newest;
}

function formatAge(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 120) return `${minutes} min`;
  return `${Math.round(minutes / 60)} h`;
}

function checkContent(
  config: VerifyConfig,
  content: ContentOutcome[] | null,
  now: number,
): CheckResult {
  if (!content) return result("content", "skip", "no token to list content (check 1 failed)", null);
  const perType: Record<string, unknown> = {};
  const failed: string[] = [];
  const empty: string[] = [];
  let firstError: unknown = null;
  let total = 0;
  let newestAll: number | null = null;
  for (const { contentType, listing } of content) {
    if (!listing.ok) {
      firstError ??= listing.error;
      failed.push(contentType);
      perType[contentType] = {
        error: describeManagementError(listing.error, config, contentType).reason,
      };
      continue;
    }
    const newest = newestCreated(listing.value);
    total += listing.value.length;
    if (newest !== null && (newestAll === null || newest > newestAll)) newestAll = newest;
    if (listing.value.length === 0) empty.push(contentType);
    perType[contentType] = {
      blobs: listing.value.length,
      newestContentCreated: newest === null ? null : new Date(newest).toISOString(),
      newestAgeMinutes: newest === null ? null : Math.round((now - newest) / 60_000),
    };
  }
  const details = { windowHours: CONTENT_LOOKBACK_MS / 3_600_000, contentTypes: perType };
  if (failed.length > 0) {
    const described = describeManagementError(firstError, config, `listing ${failed.join(", ")}`);
    return result("content", "fail", described.reason, described.fix, details);
  }
  const quietFix =
    "new subscriptions show content up to 12 hours after they start; generate activity (sign-ins, file edits) and re-run later";
  if (total === 0) {
    return result(
      "content",
      "fail",
      `no content listed in the last 24 h for any of ${content.length} content types`,
      quietFix,
      details,
    );
  }
  const summary = `${total} blobs in the last 24 h, newest ${formatAge(now - (newestAll ?? now))} old`;
  if (empty.length > 0) {
    return result(
      "content",
      "warn",
      `${summary}; none for ${empty.join(", ")} (normal for a quiet workload)`,
      quietFix,
      details,
    );
  }
  return result("content", "pass", summary, null, details);
}

/** The workspace query check 7 runs (the emulator supports exactly this shape). */
export function recordsQuery(sinceHours: number): string {
  return `${DEFAULT_TABLE_NAME} | where TimeGenerated > ago(${sinceHours}h) | summarize Rows = count(), Newest = max(TimeGenerated), NewestIngested = max(ingestion_time()) by ContentType`;
}

interface WorkspaceRow {
  contentType: string;
  rows: number;
  newest: number | null;
  newestIngested: number | null;
}

function readWorkspaceTable(table: LogsTable): WorkspaceRow[] {
  const index = (name: string) => table.columnDescriptors.findIndex((c) => c.name === name);
  const [ct, rows, newest, ingested] = ["ContentType", "Rows", "Newest", "NewestIngested"].map(
    index,
  );
  const toMs = (value: unknown): number | null => {
    if (value instanceof Date) return value.getTime();
    if (typeof value === "string") {
      const t = Date.parse(value);
      return Number.isFinite(t) ? t : null;
    }
    return null;
  };
  return table.rows.map((row) => ({
    contentType: String(row[ct ?? -1] ?? ""),
    rows: Number(row[rows ?? -1] ?? 0),
    newest: toMs(row[newest ?? -1]),
    newestIngested: toMs(row[ingested ?? -1]),
  }));
}

async function queryWorkspace(
  config: VerifyConfig,
  credential: TokenCredential,
  signal: AbortSignal,
): Promise<{ rows: WorkspaceRow[]; partial: string | null }> {
  const client = new LogsQueryClient(credential, {
    endpoint: `${config.logAnalyticsEndpoint}/v1`,
    audience: config.logAnalyticsAudience,
    credentials: { scopes: [scopeFor(config.logAnalyticsAudience)] },
    retryOptions: { maxRetries: 1 },
  });
  const response = await client.queryWorkspace(
    config.workspaceId ?? "",
    recordsQuery(config.sinceHours),
    { duration: `PT${config.sinceHours}H` },
    { abortSignal: signal },
  );
  if (response.status === LogsQueryResultStatus.Success) {
    return {
      rows: response.tables[0] ? readWorkspaceTable(response.tables[0]) : [],
      partial: null,
    };
  }
  return {
    rows: response.partialTables[0] ? readWorkspaceTable(response.partialTables[0]) : [],
    partial: response.partialError.message ?? "partial result",
  };
}

function describeQueryError(error: unknown, config: VerifyConfig): { reason: string; fix: string } {
  const status = (error as { statusCode?: number }).statusCode;
  const code = (error as { code?: string }).code;
  if (status === 401 || status === 403) {
    return {
      reason: `the caller may not query workspace ${config.workspaceId} (${status}${code ? ` ${code}` : ""})`,
      fix: "give the caller Log Analytics Reader on the workspace (or set AZURE_VERIFY_CLIENT_ID/SECRET for an identity that has it)",
    };
  }
  if (status === 404) {
    return {
      reason: `workspace ${config.workspaceId} was not found (404)`,
      fix: "pass the workspace's customer id (a GUID, 'Workspace ID' in the portal) as --workspace-id",
    };
  }
  if (status === 400) {
    const message = error instanceof Error ? error.message.split("\n")[0] : "";
    return {
      reason: `the workspace rejected the query (400${code ? ` ${code}` : ""}): ${message}`.slice(
        0,
        240,
      ),
      fix: `check that table ${DEFAULT_TABLE_NAME} exists (pulumi up creates it)`,
    };
  }
  if (isAbort(error))
    return { reason: "the workspace query timed out", fix: "re-run with a larger --timeout" };
  const aadsts = /AADSTS\d+/.exec(error instanceof Error ? error.message : "")?.[0];
  const credentialError =
    error instanceof Error &&
    /^(CredentialUnavailableError|AuthenticationError|AggregateAuthenticationError)$/.test(
      error.name,
    );
  if (aadsts || credentialError) {
    return {
      reason: `no Log Analytics token for the caller (${aadsts ?? (error as Error).name})`,
      fix: "sign in (az login) or set AZURE_VERIFY_CLIENT_ID/AZURE_VERIFY_CLIENT_SECRET",
    };
  }
  const name = error instanceof Error ? error.name : "Error";
  return {
    reason: `the workspace query failed (${status ?? name})`,
    fix: "check --workspace-id and --log-analytics-endpoint / --cloud",
  };
}

interface HealthzOutcome {
  ok: boolean;
  text: string;
}

async function probeHealthz(url: string, signal: AbortSignal): Promise<HealthzOutcome> {
  try {
    const response = await fetch(url, { signal });
    const body = await response.text();
    let summary = "";
    try {
      const parsed = JSON.parse(body) as { status?: unknown };
      if (typeof parsed.status === "string") summary = ` (${parsed.status})`;
    } catch {
      // A plain-text body is fine; only the status code matters.
    }
    return {
      ok: response.ok,
      text: `collector /healthz answered ${response.status}${summary}`,
    };
  } catch (error) {
    if (signal.aborted) return { ok: false, text: "collector /healthz did not answer in time" };
    const code = (error as { cause?: { code?: string } }).cause?.code;
    return { ok: false, text: `collector /healthz unreachable${code ? ` (${code})` : ""}` };
  }
}

function checkRecords(
  config: VerifyConfig,
  workspace: Settled<{ rows: WorkspaceRow[]; partial: string | null }> | null,
  content: ContentOutcome[] | null,
  healthz: HealthzOutcome | null,
  now: number,
): CheckResult {
  const healthzNote = healthz ? `; ${healthz.text}` : "";
  const healthzDetails = healthz ? { healthz: healthz.text } : {};
  if (!workspace) {
    return result(
      "records",
      healthz && !healthz.ok ? "warn" : "skip",
      `no workspace id, so the workspace was not queried${healthzNote}`,
      "pass --workspace-id <guid> (the workspace's customer id) or use --stack",
      healthzDetails,
    );
  }
  if (!workspace.ok) {
    const described = describeQueryError(workspace.error, config);
    return result(
      "records",
      "fail",
      `${described.reason}${healthzNote}`,
      described.fix,
      healthzDetails,
    );
  }
  const rows = workspace.value.rows;
  const total = rows.reduce((sum, r) => sum + r.rows, 0);
  const perType = Object.fromEntries(
    rows.map((r) => [
      r.contentType,
      {
        rows: r.rows,
        newest: r.newest === null ? null : new Date(r.newest).toISOString(),
        newestIngested: r.newestIngested === null ? null : new Date(r.newestIngested).toISOString(),
      },
    ]),
  );
  const newestIngested = rows.reduce<number | null>(
    (max, r) =>
      r.newestIngested !== null && (max === null || r.newestIngested > max)
        ? r.newestIngested
        : max,
    null,
  );
  const newestRow = rows.reduce<number | null>(
    (max, r) => (r.newest !== null && (max === null || r.newest > max) ? r.newest : max),
    null,
  );
  const apiNewest = (content ?? []).reduce<number | null>((max, c) => {
    const n = c.listing.ok ? newestCreated(c.listing.value) : null;
    return n !== null && (max === null || n > max) ? n : max;
  }, null);
  const lagMs =
    apiNewest !== null && newestIngested !== null ? Math.max(0, apiNewest - newestIngested) : null;
  const details: Record<string, unknown> = {
    table: DEFAULT_TABLE_NAME,
    sinceHours: config.sinceHours,
    rows: total,
    newestTimeGenerated: newestRow === null ? null : new Date(newestRow).toISOString(),
    newestIngested: newestIngested === null ? null : new Date(newestIngested).toISOString(),
    apiNewestContentCreated: apiNewest === null ? null : new Date(apiNewest).toISOString(),
    ingestionLagMinutes: lagMs === null ? null : Math.round(lagMs / 60_000),
    contentTypes: perType,
    ...healthzDetails,
  };
  if (total === 0) {
    return result(
      "records",
      "fail",
      `no ${DEFAULT_TABLE_NAME} rows in the last ${config.sinceHours} h${healthzNote}`,
      "start the collector with AUDIT_SINK=logs-ingestion (`npm run collector -- run --once`) and check its Monitoring Metrics Publisher role on the DCR (takes up to 30 min to apply; new tables show data after 10–15 min)",
      details,
    );
  }
  const summary = `${total} rows in the last ${config.sinceHours} h, newest ingested ${formatAge(now - (newestIngested ?? now))} ago`;
  const warnings: string[] = [];
  if (lagMs !== null && lagMs > MAX_INGESTION_LAG_MS) {
    warnings.push(`the workspace trails the API's newest content by ${formatAge(lagMs)}`);
  }
  const present = new Set(rows.filter((r) => r.rows > 0).map((r) => r.contentType.toLowerCase()));
  const missingTypes = (content ?? [])
    .filter(
      (c) =>
        c.listing.ok && c.listing.value.length > 0 && !present.has(c.contentType.toLowerCase()),
    )
    .map((c) => c.contentType);
  if (missingTypes.length > 0)
    warnings.push(`no rows for ${missingTypes.join(", ")} although the API lists content`);
  if (workspace.value.partial) warnings.push(`partial query result: ${workspace.value.partial}`);
  if (healthz && !healthz.ok) warnings.push(healthz.text);
  if (warnings.length > 0) {
    return result(
      "records",
      "warn",
      `${summary}; ${warnings.join("; ")}`,
      "check the collector's logs and /metrics (is it running, throttled, or failing to deliver?)",
      details,
    );
  }
  return result("records", "pass", `${summary}${healthzNote}`, null, details);
}

/** Workloads whose health matters to the audit log, matched on Graph's `service` names. */
const RELEVANT_SERVICES = [
  /exchange/i,
  /sharepoint/i,
  /onedrive/i,
  /teams/i,
  /microsoft 365 suite/i,
  /entra|azure active directory|identity/i,
  /purview|compliance/i,
];

/** Graph `serviceHealthStatus` values that mean "working" (anything else is shown as degraded). */
const HEALTHY_STATUSES = new Set(
  [
    "serviceOperational",
    "serviceRestored",
    "falsePositive",
    "investigationSuspended",
    "resolved",
    "mitigated",
    "mitigatedExternal",
    "resolvedExternal",
    "postIncidentReviewPublished",
  ].map((s) => s.toLowerCase()),
);

function checkServiceHealth(health: Settled<ServiceHealthOverview[]>): CheckResult {
  if (!health.ok) {
    return result(
      "service-health",
      "skip",
      `cannot read Microsoft 365 service health: ${graphErrorText(health.error)}`,
      graphFix(
        health.error,
        "give the caller ServiceHealth.Read.All to show service health as context",
      ),
    );
  }
  return serviceHealthResult(health.value);
}

/**
 * Check 8 from Graph's health overviews: warn when a workload that feeds the audit log is not
 * operational, pass otherwise. Pure; exported for tests.
 */
export function serviceHealthResult(overviews: readonly ServiceHealthOverview[]): CheckResult {
  const relevant = overviews.filter((s) => RELEVANT_SERVICES.some((re) => re.test(s.service)));
  const degraded = relevant.filter((s) => !HEALTHY_STATUSES.has(String(s.status).toLowerCase()));
  const details = {
    services: Object.fromEntries(relevant.map((s) => [s.service, s.status])),
  };
  if (degraded.length > 0) {
    return result(
      "service-health",
      "warn",
      `degraded: ${degraded.map((s) => `${s.service} (${s.status})`).join(", ")}; audit content may be delayed`,
      "see Microsoft 365 admin center → Health → Service health; re-run verify after the incident",
      details,
    );
  }
  return result(
    "service-health",
    "pass",
    relevant.length > 0
      ? `${relevant.length} relevant services operational`
      : "no relevant service reported by Graph",
    null,
    details,
  );
}

function timedOut(id: CheckId, config: VerifyConfig): CheckResult {
  return result(
    id,
    "fail",
    `did not finish within the ${config.timeoutMs / 1000} s timeout`,
    `re-run with a larger --timeout, or check network access to the endpoints`,
  );
}

/**
 * Runs all checks and returns their results in check order. Token first; the Management API
 * reads wait for it; Graph, the workspace query and /healthz start at once. When the deadline
 * passes, unfinished checks report a timeout failure and in-flight requests are aborted.
 */
export async function runChecks(
  config: VerifyConfig,
  options: RunChecksOptions = {},
): Promise<CheckResult[]> {
  const nowMs = options.nowMs ?? Date.now;
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(options.abortSignal?.reason);
  options.abortSignal?.addEventListener("abort", onOuterAbort, { once: true });
  let deadlineTimer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"timeout">((resolve) => {
    deadlineTimer = setTimeout(() => {
      resolve("timeout");
      controller.abort(new Error("verify timeout"));
    }, config.timeoutMs);
  });
  const signal = controller.signal;

  try {
    const appCredential = options.appCredential ?? createAppCredential(config);
    const caller = options.callerCredential ?? createCallerCredential(config, appCredential);
    const graph: GraphReader = createGraphClient({
      credential: caller.credential,
      endpoint: config.graphEndpoint,
      audience: config.graphAudience,
      tenantId: config.tenantId,
      abortSignal: signal,
    });

    const tokenP = checkToken(config, appCredential, signal, nowMs);
    const applicationP = settle(graph.application(config.clientId));
    const graphRolesP = settle(graph.managementRolesGranted(config.clientId));
    const healthP = settle(graph.healthOverviews());
    const workspaceP = config.workspaceId
      ? settle(queryWorkspace(config, caller.credential, signal))
      : null;
    const healthzP = config.healthzUrl ? probeHealthz(config.healthzUrl, signal) : null;

    const apiOptionsP = tokenP.then((t): ManagementApiOptions | null =>
      t.token
        ? {
            endpoint: config.managementEndpoint,
            tenantId: config.tenantId,
            publisherId: config.publisherId,
            token: t.token,
            abortSignal: signal,
          }
        : null,
    );
    const listP = apiOptionsP.then((o) => (o ? settle(listSubscriptions(o)) : null));
    const contentP = apiOptionsP.then((o) => {
      if (!o) return null;
      const end = nowMs();
      return Promise.all(
        config.contentTypes.map(async (contentType) => ({
          contentType,
          listing: await settle(listContent(o, contentType, end - CONTENT_LOOKBACK_MS, end)),
        })),
      );
    });

    const bounded = async (id: CheckId, run: () => Promise<CheckResult>): Promise<CheckResult> => {
      const guarded = run().catch((error: unknown) =>
        result(
          id,
          "fail",
          `verify itself failed in this check (${error instanceof Error ? error.name : "error"})`,
          "report this as an AuditBridge bug with the --json output",
        ),
      );
      const outcome = await Promise.race([guarded, deadline]);
      return outcome === "timeout" ? timedOut(id, config) : outcome;
    };

    return await Promise.all([
      bounded("token", async () => (await tokenP).result),
      bounded("permissions", async () => checkPermissions(config, await tokenP, await graphRolesP)),
      bounded("credential-expiry", async () =>
        checkCredentialExpiry(config, await tokenP, await applicationP, nowMs()),
      ),
      bounded("audit-enabled", async () => checkAuditEnabled(config, await listP, await contentP)),
      bounded("subscriptions", async () => checkSubscriptions(config, await listP, await contentP)),
      bounded("content", async () => checkContent(config, await contentP, nowMs())),
      bounded("records", async () =>
        checkRecords(
          config,
          workspaceP ? await workspaceP : null,
          await contentP,
          healthzP ? await healthzP : null,
          nowMs(),
        ),
      ),
      bounded("service-health", async () => checkServiceHealth(await healthP)),
    ]);
  } finally {
    clearTimeout(deadlineTimer);
    controller.abort();
    options.abortSignal?.removeEventListener("abort", onOuterAbort);
  }
}
