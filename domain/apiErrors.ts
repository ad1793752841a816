/**
 * What Microsoft's error codes mean: the Office 365 Management Activity API's `AF…` codes and
 * Entra ID's `AADSTS…` codes. Facts only; what to do about them (retry, resubscribe, which flag
 * or variable to fix) is each tool's business: the collector's classifier and credential
 * messages, and verify's explanations, all read their meanings here.
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#errors
 * https://learn.microsoft.com/en-us/office/office-365-management-api/troubleshooting-the-office-365-management-activity-api
 * https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes
 */

/** The families of Management Activity API errors, by what the API is saying. */
export type ManagementErrorKind =
  /** Too many requests for the publisher (AF429, sent as HTTP 403). */
  | "throttled"
  /** An internal error on Microsoft's side; the documented advice is to retry. */
  | "server"
  /** The token lacks ActivityFeed.Read (or ActivityFeed.ReadDlp for DLP.All). */
  | "permission"
  /** The request itself is malformed (missing or invalid parameter). */
  | "bad-request"
  /** The tenant in the URL is unknown, malformed, misconfigured or not the token's. */
  | "tenant"
  /** The content type is not one the API knows. */
  | "content-type"
  /** A webhook could not be validated or its expiration is in the past. */
  | "webhook"
  /** No subscription exists for the content type. */
  | "no-subscription"
  /** The subscription exists but is disabled. */
  | "subscription-disabled"
  /** `subscriptions/start` on a subscription that is already enabled, with nothing to change. */
  | "already-enabled"
  /** The listing window was refused (bounds, length, or start too far back). */
  | "window"
  /** The `nextPage` value of a content listing is no longer accepted. */
  | "next-page"
  /** The content blob does not exist or its id is invalid. */
  | "content-missing"
  /** The content blob is older than the API keeps content. */
  | "content-expired";

/** The meaning of one AF code. */
export interface ManagementCodeMeaning {
  kind: ManagementErrorKind;
  /** What the API says, as a lower-case phrase without a code or advice. */
  meaning: string;
}

/**
 * AF codes, each with what it means. The API reuses HTTP statuses across meanings (403 for
 * throttling, 401 for a missing role), so the code, not the status, says what happened.
 */
export const MANAGEMENT_API_CODES: Readonly<Record<string, ManagementCodeMeaning>> = Object.freeze({
  AF429: { kind: "throttled", meaning: "throttled by the Management Activity API" },
  // "An internal error occurred. Retry the request." AF50005 and AF50006 are observed variants.
  AF50000: { kind: "server", meaning: "internal error in the Management Activity API" },
  AF50005: { kind: "server", meaning: "internal error in the Management Activity API" },
  AF50006: { kind: "server", meaning: "internal error in the Management Activity API" },
  AF10001: { kind: "permission", meaning: "the app lacks a Management API permission" },
  AF20001: { kind: "bad-request", meaning: "the API reports a missing parameter" },
  AF20002: { kind: "bad-request", meaning: "the API reports an invalid parameter" },
  AF20003: { kind: "webhook", meaning: "webhook expiration is in the past" },
  AF20010: {
    kind: "tenant",
    meaning: "the tenant id in the URL does not match the token's tenant",
  },
  AF20011: { kind: "tenant", meaning: "the tenant does not exist or was deleted" },
  AF20012: {
    kind: "tenant",
    meaning: "the tenant is incorrectly configured in the Management API",
  },
  AF20013: { kind: "tenant", meaning: "the tenant id is not a valid GUID" },
  AF20020: { kind: "content-type", meaning: "the content type is not valid" },
  AF20021: { kind: "webhook", meaning: "the webhook endpoint could not be validated" },
  AF20022: { kind: "no-subscription", meaning: "no subscription for the content type" },
  AF20023: { kind: "subscription-disabled", meaning: "the subscription was disabled" },
  AF20024: { kind: "already-enabled", meaning: "the subscription is already enabled" },
  // Both or neither bound, at most 24 h apart, start at most 7 days back.
  AF20030: { kind: "window", meaning: "the API refused the listing window" },
  AF20031: { kind: "next-page", meaning: "the API refused the nextPage link" },
  // As AF20030, plus "start before end"; also what a stale NextPageUri returns.
  AF20055: { kind: "window", meaning: "the API refused the listing window" },
  AF20050: { kind: "content-missing", meaning: "the content blob does not exist" },
  AF20051: { kind: "content-expired", meaning: "the content blob has expired" },
  AF20052: { kind: "content-missing", meaning: "the content id is invalid" },
});

/** The meaning of an AF code (any case), or undefined for a code the table does not know. */
export function managementCodeMeaning(code: string | undefined): ManagementCodeMeaning | undefined {
  if (code === undefined) return undefined;
  return MANAGEMENT_API_CODES[code.trim().toUpperCase()];
}

/** What the API answers while unified audit logging is off or not yet provisioned. */
export const AUDIT_OFF_MEANING =
  "unified audit logging is off or not yet provisioned for this tenant (DataServiceException: tenant does not exist)";

/**
 * True when an error's code or message is the audit-off answer. Its `code` is a diagnostic
 * prefix cut mid-token, not an AF code, so it is recognised by the exception name in the text.
 */
export function isAuditOffAnswer(text: string): boolean {
  return /DataServiceException/i.test(text) || /\bdoes not exist\b/i.test(text);
}

/** The families of Entra ID token errors the tools explain. */
export type EntraErrorKind =
  | "unknown-tenant"
  | "malformed-tenant"
  | "unknown-app"
  | "wrong-secret"
  | "expired-secret"
  | "certificate-refused"
  | "no-federated-match";

/** The meaning of one AADSTS code. */
export interface EntraCodeMeaning {
  kind: EntraErrorKind;
  /** What Entra ID says, as a lower-case phrase without a code or advice. */
  meaning: string;
}

/**
 * AADSTS codes that mean the configuration is wrong: retrying the same request cannot succeed.
 * https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes
 */
export const ENTRA_ERROR_CODES: Readonly<Record<string, EntraCodeMeaning>> = Object.freeze({
  AADSTS90002: { kind: "unknown-tenant", meaning: "the tenant was not found" },
  AADSTS900023: { kind: "malformed-tenant", meaning: "the tenant id is malformed" },
  AADSTS700016: { kind: "unknown-app", meaning: "the app was not found in the tenant" },
  AADSTS7000215: { kind: "wrong-secret", meaning: "the client secret is wrong" },
  AADSTS7000222: { kind: "expired-secret", meaning: "the client secret has expired" },
  // An unknown certificate, a bad signature and an expired key registration all answer this.
  AADSTS700027: {
    kind: "certificate-refused",
    meaning: "the certificate is not registered on the app or the assertion is invalid",
  },
  AADSTS700213: {
    kind: "no-federated-match",
    meaning: "no federated credential matches the managed identity",
  },
  AADSTS700231: {
    kind: "no-federated-match",
    meaning: "no federated credential matches the managed identity",
  },
  AADSTS70021: {
    kind: "no-federated-match",
    meaning: "no federated credential matches the managed identity",
  },
});

/** The first `AADSTS<digits>` code in a text, or undefined. */
export function entraErrorCode(text: string): string | undefined {
  return /AADSTS\d+/.exec(text)?.[0];
}

/** The meaning of an AADSTS code, or undefined for a code the table does not know. */
export function entraCodeMeaning(code: string | undefined): EntraCodeMeaning | undefined {
  return code === undefined ? undefined : ENTRA_ERROR_CODES[code.toUpperCase()];
}

/** True when an AADSTS700027 description says the key registration (not the key) expired. */
export function isExpiredKeyAnswer(text: string): boolean {
  return /key used is expired/i.test(text);
}

/**
 * True when MSAL failed reading the authority's OpenID configuration before any token request.
 * Entra answers an unknown tenant there, so this is how a wrong tenant id usually shows (an
 * unreachable login host reads the same).
 */
export function isAuthorityResolutionFailure(text: string): boolean {
  return /endpoints_resolution_error/.test(text);
}
