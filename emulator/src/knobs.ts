/**
 * Fault and behaviour knobs. They live on `emulator.knobs`, are mutable while the emulator runs,
 * and every change applies from the next request on. Rates are fractions in [0, 1]; which
 * request or blob a rate hits is decided from the seed, so tests can predict it.
 */

import { type ContainerAppJobKnob, validateJobKnobs } from "./containerAppJobs";
import {
  defaultPreflightKnobs,
  type PreflightKnobs,
  validatePreflightKnobs,
} from "./preflightKnobs";

/** Management Activity API roles (Office 365 Management APIs app roles). */
export const MANAGEMENT_ROLES = [
  "ActivityFeed.Read",
  "ActivityFeed.ReadDlp",
  "ServiceHealth.Read",
] as const;

/**
 * How the emulated API counts requests against `throttle.requestsPerMinute`. Microsoft documents
 * the limit but not the counting, so both plausible readings are modelled:
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#api-throttling
 * - `perMinuteWindow`: every request (refused ones too) counts in its calendar minute; past the
 *   limit, AF429 until the minute turns. Lenient to a client that bursts early in a minute.
 * - `tokenBucket`: a small bucket (`bucketCapacity`) refilled at limit / 60 a second; a request
 *   without a token is refused and takes none. Strict with bursts at any moment.
 */
export const THROTTLE_MODELS = ["perMinuteWindow", "tokenBucket"] as const;
export type ThrottleModel = (typeof THROTTLE_MODELS)[number];

/** Tokens the `tokenBucket` model holds when full: about a second of the documented limit. */
export const DEFAULT_TOKEN_BUCKET_CAPACITY = 30;

/** The Management Activity API's request limit per PublisherIdentifier, as the emulator applies it. */
export interface ThrottleKnob {
  requestsPerMinute: number;
  /** How requests are counted; default `perMinuteWindow`. */
  model?: ThrottleModel;
  /** `tokenBucket` only: tokens when full; default {@link DEFAULT_TOKEN_BUCKET_CAPACITY}. */
  bucketCapacity?: number;
}

export interface Knobs {
  /** Extra delay before the Management Activity API and Logs Ingestion answer, in ms. */
  latencyMs: number;
  /** Fraction of Management Activity API requests answered with a bare 503. */
  serverErrorRate: number;
  /** Fraction of Management Activity API requests answered with HTTP 500 AF50000. */
  af50000Rate: number;
  /**
   * Per-PublisherIdentifier request limit and how it is counted; past it the API answers
   * HTTP 403 AF429. null = unlimited.
   */
  throttle: ThrottleKnob | null;
  /** The next N Management Activity API requests answer HTTP 403 AF429 (counts down). */
  af429Burst: number;
  /** Fraction of blobs whose first download is cut mid-stream (a retry succeeds). */
  truncateRate: number;
  /** Fraction of blobs whose body is never valid JSON (their records cannot be delivered). */
  malformedBlobRate: number;
  /** Fraction of listed blobs whose `contentUri` points at another host or tenant. */
  badContentUriRate: number;
  /** The tenant's unified audit log is off: the API answers the 400 DataServiceException shape. */
  auditDisabled: boolean;
  /** Management API roles put into new tokens (admin consent granted to the app). */
  grantedRoles: string[];
  /** When the app's client secret expires (epoch ms); past it the token endpoint answers AADSTS7000222. */
  secretExpiresAtMs: number;
  /**
   * When the app's registered certificate expires (epoch ms; Graph's keyCredentials endDateTime).
   * Past it the token endpoint refuses certificate assertions with AADSTS700027 (key expired).
   */
  certificateExpiresAtMs: number;
  /** Added to the emulator's clock, to simulate a client whose clock is skewed. */
  clockOffsetMs: number;
  /** The next `count` Logs Ingestion requests answer 429, with Retry-After when given. */
  ingestionThrottle: { count: number; retryAfterSeconds?: number } | null;
  /** Logs Ingestion answers 503 while true. */
  ingestionOutage: boolean;
  /** Content types whose subscription an admin disabled (the API answers AF20023). */
  subscriptionsDisabled: string[];
  /**
   * Plan of the emulated custom table. Basic: `/search` answers queries over it and `/query`
   * refuses them (see query.ts).
   */
  tablePlan: "Analytics" | "Basic";
  /** Azure subscription and directory state that `npm run preflight` reads (see arm.ts). */
  preflight: PreflightKnobs;
  /** The Key Vault data plane's secrets and access (see keyVault.ts). */
  keyVault: KeyVaultKnobs;
  /** Container Apps jobs (a scheduled collector) and their executions, served under ARM. */
  containerAppJobs: ContainerAppJobKnob[];
}

/** A secret the emulated Key Vault holds. */
export interface EmulatedSecret {
  value: string;
  contentType?: string;
  /** Expiry attribute (epoch ms); absent = no expiry. */
  expiresAtMs?: number;
}

/**
 * The emulated Key Vault (one vault, served at the emulator's origin). Microsoft documents a 403
 * for a caller without a data-plane role and a 404 for a missing secret; both are knobs.
 */
export interface KeyVaultKnobs {
  /** Secrets by name; a name not listed answers 404 SecretNotFound. */
  secrets: Record<string, EmulatedSecret>;
  /** Every secret read answers 403 Forbidden (ForbiddenByRbac), as for a caller without Key Vault Secrets User. */
  forbidden: boolean;
}

/** How long the emulated app's client secret lives by default: the 180 days Entra suggests. */
export const DEFAULT_SECRET_LIFETIME_MS = 180 * 24 * 60 * 60 * 1000;

/** How long the emulated app's certificate registration lives by default: one year. */
export const DEFAULT_CERTIFICATE_LIFETIME_MS = 365 * 24 * 60 * 60 * 1000;

/** Knobs of a well-behaved tenant, as of `startMs`. */
export function defaultKnobs(startMs: number): Knobs {
  return {
    latencyMs: 0,
    serverErrorRate: 0,
    af50000Rate: 0,
    throttle: null,
    af429Burst: 0,
    truncateRate: 0,
    malformedBlobRate: 0,
    badContentUriRate: 0,
    auditDisabled: false,
    grantedRoles: [...MANAGEMENT_ROLES],
    secretExpiresAtMs: startMs + DEFAULT_SECRET_LIFETIME_MS,
    certificateExpiresAtMs: startMs + DEFAULT_CERTIFICATE_LIFETIME_MS,
    clockOffsetMs: 0,
    ingestionThrottle: null,
    ingestionOutage: false,
    subscriptionsDisabled: [],
    tablePlan: "Analytics",
    preflight: defaultPreflightKnobs(),
    keyVault: { secrets: {}, forbidden: false },
    containerAppJobs: [],
  };
}

/** Checks knob values and throws a one-line error naming the bad knob. */
export function validateKnobs(knobs: Knobs): void {
  const rates = [
    "serverErrorRate",
    "af50000Rate",
    "truncateRate",
    "malformedBlobRate",
    "badContentUriRate",
  ] as const;
  for (const name of rates) {
    const value = knobs[name];
    if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
      throw new Error(`knobs.${name} must be a number between 0 and 1, got ${String(value)}`);
    }
  }
  if (!(knobs.latencyMs >= 0))
    throw new Error(`knobs.latencyMs must be >= 0, got ${knobs.latencyMs}`);
  if (!(Number.isInteger(knobs.af429Burst) && knobs.af429Burst >= 0)) {
    throw new Error(`knobs.af429Burst must be a non-negative integer, got ${knobs.af429Burst}`);
  }
  if (knobs.throttle !== null) validateThrottle(knobs.throttle);
  for (const name of ["secretExpiresAtMs", "certificateExpiresAtMs"] as const) {
    if (typeof knobs[name] !== "number" || !Number.isFinite(knobs[name])) {
      throw new Error(`knobs.${name} must be an epoch time in ms, got ${String(knobs[name])}`);
    }
  }
  if (!Array.isArray(knobs.grantedRoles))
    throw new Error("knobs.grantedRoles must be an array of role names");
  if (!Array.isArray(knobs.subscriptionsDisabled)) {
    throw new Error("knobs.subscriptionsDisabled must be an array of content types");
  }
  if (knobs.tablePlan !== "Analytics" && knobs.tablePlan !== "Basic") {
    throw new Error(`knobs.tablePlan must be Analytics or Basic, got ${String(knobs.tablePlan)}`);
  }
  validatePreflightKnobs(knobs.preflight);
  const vault = knobs.keyVault as Partial<KeyVaultKnobs> | undefined;
  if (!vault || typeof vault.forbidden !== "boolean" || typeof vault.secrets !== "object") {
    throw new Error(
      "knobs.keyVault must be { secrets: { <name>: { value } }, forbidden: boolean }",
    );
  }
  for (const [name, secret] of Object.entries(vault.secrets ?? {})) {
    if (!/^[0-9a-zA-Z-]{1,127}$/.test(name)) {
      throw new Error(
        `knobs.keyVault.secrets: "${name}" is not a Key Vault secret name (1-127 letters, digits, dashes)`,
      );
    }
    if (typeof secret?.value !== "string") {
      throw new Error(`knobs.keyVault.secrets.${name}.value must be a string`);
    }
  }
  validateJobKnobs(knobs.containerAppJobs);
}

function validateThrottle(throttle: ThrottleKnob): void {
  if (typeof throttle !== "object" || !(throttle.requestsPerMinute >= 0)) {
    throw new Error(
      "knobs.throttle.requestsPerMinute must be >= 0 (or set knobs.throttle to null)",
    );
  }
  if (throttle.model !== undefined && !THROTTLE_MODELS.includes(throttle.model)) {
    throw new Error(
      `knobs.throttle.model must be one of ${THROTTLE_MODELS.join(", ")}, got ${String(throttle.model)}`,
    );
  }
  const capacity = throttle.bucketCapacity;
  if (capacity !== undefined && !(Number.isInteger(capacity) && capacity >= 1)) {
    throw new Error(
      `knobs.throttle.bucketCapacity must be a whole number of at least 1, got ${String(capacity)}`,
    );
  }
}
