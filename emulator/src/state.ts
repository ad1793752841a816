import type { AppCertificate } from "./certificate";
import type { TokenSigner } from "./jwt";
import type { Knobs } from "./knobs";

/**
 * Identities and shared state of one emulated tenant, handed to every endpoint module.
 */

/** The emulated tenant and the AuditBridge app registered in it. */
export interface TenantIdentity {
  tenantId: string;
  clientId: string;
  /** The app's client secret; printed only on request (`--print-secret`). */
  clientSecret: string;
  /** PublisherIdentifier a collector should send (the vendor's tenant GUID). */
  publisherId: string;
  applicationObjectId: string;
  servicePrincipalObjectId: string;
}

/** A user-assigned managed identity that the app trusts as a federated credential (keyless auth). */
export interface ManagedIdentity {
  /** Value for AUDIT_FEDERATED_IDENTITY_CLIENT_ID / ManagedIdentityCredential's clientId. */
  clientId: string;
  /** The identity's service principal object id (the `sub` of its tokens). */
  principalId: string;
  /** App Service style endpoint (IDENTITY_ENDPOINT). */
  endpoint: string;
  /** Value the endpoint expects in X-IDENTITY-HEADER (IDENTITY_HEADER). */
  identityHeader: string;
}

/** Counters a test or benchmark can read while the emulator runs. */
export interface EmulatorCounters {
  requests: number;
  tokensIssued: number;
  tokenFailures: number;
  apiRequests: number;
  throttled: number;
  injectedErrors: number;
  blobsServed: number;
  recordsServed: number;
  blobBytesServed: number;
  truncatedBlobs: number;
  malformedBlobsServed: number;
  ingestionRequests: number;
  ingestedRows: number;
  ingestionRejected: number;
  notificationsSent: number;
  notificationFailures: number;
}

export function zeroCounters(): EmulatorCounters {
  return {
    requests: 0,
    tokensIssued: 0,
    tokenFailures: 0,
    apiRequests: 0,
    throttled: 0,
    injectedErrors: 0,
    blobsServed: 0,
    recordsServed: 0,
    blobBytesServed: 0,
    truncatedBlobs: 0,
    malformedBlobsServed: 0,
    ingestionRequests: 0,
    ingestedRows: 0,
    ingestionRejected: 0,
    notificationsSent: 0,
    notificationFailures: 0,
  };
}

/** What the endpoint modules share. */
export interface EmulatorState {
  seed: number;
  /** https://127.0.0.1:PORT once listening. */
  url: string;
  tenant: TenantIdentity;
  managedIdentity: ManagedIdentity;
  knobs: Knobs;
  /** Certificates registered as the app's key credentials (certificate sign-in). */
  certificates: AppCertificate[];
  signer: TokenSigner;
  counters: EmulatorCounters;
  /** The emulator's clock (epoch ms), including knobs.clockOffsetMs. */
  now(): number;
}
