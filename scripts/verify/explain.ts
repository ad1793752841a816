/**
 * What verify tells a person about a failure: a one-line reason and a one-line fix, in verify's
 * vocabulary (flags such as `--tenant-id`, the portal, `pulumi up`). What Microsoft's codes mean
 * comes from `domain/apiErrors.ts`; the fixes are verify's own. Pure; exported for tests.
 */
import { AuthenticationError } from "@azure/identity";
import { isAbortError } from "../../collector/src/backoff";
import { isManagementApiError } from "../../collector/src/source/apiError";
import {
  type EntraErrorKind,
  entraCodeMeaning,
  entraErrorCode,
  isAuditOffAnswer,
  isExpiredKeyAnswer,
  managementCodeMeaning,
} from "../../domain/apiErrors";
import { DEFAULT_TABLE_NAME } from "../../domain/table";
import { isExchangeAdminError } from "../audit-logging/exchangeAdmin";
import type { VerifyConfig } from "./inputs";
import { isGraphReadError } from "./probes/graph";

/** A reason and the fix for it, each a single line. */
export interface Explanation {
  reason: string;
  fix: string;
}

/** The admin-consent URL for the app, on the configured login host. */
export function adminConsentUrl(config: VerifyConfig): string {
  return `${config.authorityHost}/${config.tenantId}/adminconsent?client_id=${config.clientId}`;
}

/** True for an abort or a timeout (the run's deadline, or a request's own). */
export function isAbortOrTimeout(error: unknown): boolean {
  return isAbortError(error) || (error instanceof Error && error.name === "TimeoutError");
}

/** Why the app's token could not be had, with the AADSTS code when Entra ID gave one. */
export function describeTokenError(
  error: unknown,
  config: VerifyConfig,
  discoveryAnswer = "",
): Explanation & { aadsts: string | null } {
  const texts: string[] = [discoveryAnswer];
  if (error instanceof AuthenticationError) {
    texts.push(error.errorResponse.errorDescription ?? "", error.errorResponse.error ?? "");
  }
  if (error instanceof Error) texts.push(error.message);
  const joined = texts.join(" ");
  const code = entraErrorCode(joined);
  if (code !== undefined) {
    const aadsts = code.slice("AADSTS".length);
    const known = entraCodeMeaning(code);
    if (known !== undefined)
      return { aadsts, ...explainEntraCode(known.kind, code, joined, config) };
    return {
      aadsts,
      reason: `Entra ID refused the token request (${code})`,
      fix: `look up ${code} at https://login.microsoftonline.com/error?code=${aadsts}`,
    };
  }
  const cause = (error as { cause?: { code?: string } } | undefined)?.cause?.code;
  const errno = (error as { code?: string } | undefined)?.code;
  const network = [cause, errno].find((c) => typeof c === "string" && /^E[A-Z]+/.test(c));
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

/** Verify's reason and fix for each AADSTS family, naming verify's flags. */
function explainEntraCode(
  kind: EntraErrorKind,
  code: string,
  description: string,
  config: VerifyConfig,
): Explanation {
  const meaning = entraCodeMeaning(code)?.meaning ?? "";
  switch (kind) {
    case "wrong-secret":
      return {
        reason: `wrong client secret (${code}): Entra ID rejected the secret for this app`,
        fix: `set AZURE_CLIENT_SECRET to the secret's value (not its id) of app ${config.clientId}`,
      };
    case "expired-secret":
      return {
        reason: `${meaning} (${code})`,
        fix: "create a new secret: re-run `pulumi up` for the stack (it rotates the secret) and update AZURE_CLIENT_SECRET and the collector",
      };
    case "unknown-app":
      return {
        reason: `unknown app: no application ${config.clientId} in tenant ${config.tenantId} (${code})`,
        fix: `check --client-id and --tenant-id; a multitenant app must be consented in this tenant: ${adminConsentUrl(config)}`,
      };
    case "certificate-refused":
      return isExpiredKeyAnswer(description)
        ? {
            reason: `the app's certificate registration has expired (${code})`,
            fix: "issue a new certificate (re-run `pulumi up` for the stack, or Entra ID → App registrations → Certificates & secrets) and point --certificate-path and the collector at it",
          }
        : {
            reason: `Entra ID refused the certificate: it is not registered on the app or the assertion's signature is invalid (${code})`,
            fix: `check that the certificate in --certificate-path is the one uploaded to app ${config.clientId} (compare thumbprints under Certificates & secrets)`,
          };
    case "unknown-tenant":
      return {
        reason: `unknown tenant: ${config.tenantId} does not exist (${code})`,
        fix: "check --tenant-id (the Microsoft 365 tenant GUID) and --cloud",
      };
    case "malformed-tenant":
      return {
        reason: `${meaning} (${code})`,
        fix: "check --tenant-id (the Microsoft 365 tenant GUID)",
      };
    case "no-federated-match":
      // verify signs in with a secret or a certificate; this code means the app's identity setup.
      return {
        reason: `${meaning} (${code})`,
        fix: `check the federated credentials of app ${config.clientId} in Entra ID`,
      };
  }
}

/** Check 4's reason and fix when unified audit logging is off. */
export const AUDIT_OFF_REASON =
  "unified audit logging is off or not provisioned yet (it can take up to 60 minutes after enabling)";
export const AUDIT_OFF_FIX =
  "Purview portal → Audit → Start recording user and admin activity, or `Set-AdminAuditLogConfig -UnifiedAuditLogIngestionEnabled $true`; then wait up to 60 minutes";
/** What the API answered, for check 4's details. */
export const AUDIT_OFF_ANSWER = "DataServiceException: tenant does not exist";

/** The command that turns unified audit logging on for the config's tenant. */
export function auditEnableCommand(config: VerifyConfig): string {
  return `npm run audit-logging -- enable --tenant-id ${config.tenantId}`;
}

/** Check 4's fix when auditing is off: AuditBridge's command first, then the manual ways. */
export function auditOffFix(config: VerifyConfig): string {
  return `${auditEnableCommand(config)} (or ${AUDIT_OFF_FIX.replace(/^Purview/, "in the Purview")})`;
}

/** Where check 4's verdict came from, for its details. */
export const AUDIT_SOURCE_SWITCH = "Get-AdminAuditLogConfig";
export const AUDIT_SOURCE_INFERENCE = "Management Activity API (DataServiceException inference)";

/** Why the caller could not read `Get-AdminAuditLogConfig`, as a short phrase for a reason line. */
export function describeSwitchReadError(error: unknown): string {
  if (isExchangeAdminError(error)) {
    switch (error.code) {
      case "unauthorized":
        return `Exchange Online refused the caller's token (${error.status ?? 401})`;
      case "forbidden":
        return `the caller lacks an Exchange role that may read it (${error.status ?? 403})`;
      case "not-found":
        return `no Exchange admin endpoint for this tenant there (${error.status ?? 404}; check --exchange-endpoint)`;
      case "unavailable": {
        // A caller that cannot sign in at all surfaces here, as the retry wrapper's cause.
        const cause =
          (error.cause as { lastError?: unknown } | undefined)?.lastError ?? error.cause;
        const name = cause instanceof Error ? cause.name : "";
        return /Credential|Authentication/.test(name)
          ? `no Exchange Online token for the caller (${name})`
          : "Exchange Online did not answer";
      }
      default:
        return `Get-AdminAuditLogConfig failed (${error.status !== undefined ? `HTTP ${error.status}` : error.code})`;
    }
  }
  if (isAbortOrTimeout(error)) return "the read timed out";
  return `the read failed (${error instanceof Error ? error.name : "error"})`;
}

/** True when a Management API error is the audit-off answer (not an AF code, by its text). */
export function isAuditOffError(error: unknown): boolean {
  return (
    isManagementApiError(error) &&
    managementCodeMeaning(error.code) === undefined &&
    isAuditOffAnswer(`${error.code ?? ""} ${error.apiMessage ?? ""}`)
  );
}

/** True when a Management API error says the subscription was disabled (AF20023). */
export function isSubscriptionDisabledError(error: unknown): boolean {
  return (
    isManagementApiError(error) &&
    managementCodeMeaning(error.code)?.kind === "subscription-disabled"
  );
}

/** A one-line reason and fix for a failed Management Activity API read. */
export function describeManagementError(
  error: unknown,
  config: VerifyConfig,
  what: string,
): Explanation {
  if (!isManagementApiError(error)) {
    if (isAbortOrTimeout(error))
      return { reason: `${what}: timed out`, fix: "re-run with a larger --timeout" };
    return { reason: `${what} failed`, fix: "re-run; if it persists check --management-endpoint" };
  }
  if (isAuditOffError(error)) return { reason: AUDIT_OFF_REASON, fix: AUDIT_OFF_FIX };
  const code = error.code;
  const kind = managementCodeMeaning(code)?.kind;
  if (kind === "permission" || (kind === undefined && error.status === 401)) {
    return {
      reason: `${what}: the API refused the token (401 ${code ?? ""}: a role is missing)`.replace(
        " )",
        ")",
      ),
      fix: `an admin grants consent: ${adminConsentUrl(config)}`,
    };
  }
  switch (kind) {
    case "no-subscription":
      return {
        reason: `${what}: no subscription (${code})`,
        fix: "run the collector once (`npm run collector -- run --once`): it starts missing subscriptions",
      };
    case "subscription-disabled":
      return {
        reason: `${what}: the subscription was disabled (${code})`,
        fix: "run the collector once (`npm run collector -- run --once`): it restarts disabled subscriptions",
      };
    case "tenant":
      return {
        reason: `${what}: the API does not accept this tenant (${code})`,
        fix: "check --tenant-id and --cloud (the API host must match the tenant's cloud)",
      };
  }
  if (error.classification.throttled) {
    const retries = Math.max(0, (error.attempts ?? 1) - 1);
    return {
      reason: `${what}: throttled (${code ?? `HTTP ${error.status}`}) after ${retries} retries`,
      fix: "re-run in a minute; if the collector runs, it shares the tenant's request quota",
    };
  }
  if (kind === "server" || (error.status !== undefined && error.status >= 500)) {
    return {
      reason: `${what}: the API answered ${error.status ?? ""} ${code ?? ""}`
        .replace(/\s+/g, " ")
        .trim(),
      fix: "re-run later; the Management Activity API had a transient error",
    };
  }
  if (error.status === undefined && error.classification.action === "retry") {
    return {
      reason: `${what}: cannot reach ${new URL(config.managementEndpoint).host} (${code ?? "network"})`,
      fix: "check network access to the API host, or --management-endpoint / --cloud",
    };
  }
  const detail = error.apiMessage ?? error.classification.reason;
  return {
    reason:
      `${what}: ${code ?? (error.status !== undefined ? `HTTP ${error.status}` : "")} ${detail}`
        .replace(/\s+/g, " ")
        .slice(0, 200),
    fix: "check --management-endpoint and --cloud",
  };
}

/** Why a Graph read could not be made, for a skipped check's reason. */
export function graphErrorText(error: unknown): string {
  if (isGraphReadError(error)) {
    if (error.status === 403)
      return `the caller may not read this (403 ${error.code ?? ""})`.trim();
    return error.message;
  }
  if (isAbortOrTimeout(error)) return "timed out";
  return error instanceof Error ? error.name : "Graph read failed";
}

/** The fix for a Graph read that failed: sign in when there was no token, else the permission. */
export function graphFix(error: unknown, permissionFix: string): string {
  if (isGraphReadError(error) && error.status === 0) {
    return "sign the caller in (az login) or set AZURE_VERIFY_CLIENT_ID and AZURE_VERIFY_CLIENT_SECRET";
  }
  return permissionFix;
}

/** A one-line reason and fix for a failed workspace query. */
export function describeQueryError(error: unknown, config: VerifyConfig): Explanation {
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
      fix: `check that table ${DEFAULT_TABLE_NAME} exists (pulumi up creates it) and that --table-plan names its plan (${config.tablePlan} was used)`,
    };
  }
  if (isAbortOrTimeout(error))
    return { reason: "the workspace query timed out", fix: "re-run with a larger --timeout" };
  const aadsts = entraErrorCode(error instanceof Error ? error.message : "");
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
