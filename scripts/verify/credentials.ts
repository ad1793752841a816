/**
 * The two identities verify uses: the app's own credential (the path the collector takes to the
 * Management Activity API, built by the collector's own factory) and the caller's credential
 * (Graph, the workspace query and check 4's read of the audit switch).
 */
import { DefaultAzureCredential, type TokenCredential } from "@azure/identity";
import { createClientCredential } from "../../collector/src/credentials";
import type { VerifyConfig } from "./inputs";

/** The app registration's credential (secret or certificate) against the configured authority. */
export function createAppCredential(config: VerifyConfig): TokenCredential {
  const spec = config.appCredential;
  return createClientCredential({
    tenantId: config.tenantId,
    clientId: config.clientId,
    authorityHost: config.authorityHost,
    credential:
      spec.kind === "certificate"
        ? { kind: "certificate", certificatePath: spec.certificatePath }
        : { kind: "secret", clientSecret: spec.secret.reveal() },
  });
}

/** A caller credential plus a short description for the report (never a secret). */
export interface CallerCredential {
  credential: TokenCredential;
  /** e.g. "the app's own credential" or "DefaultAzureCredential". */
  description: string;
}

/**
 * The caller's credential for Graph, Log Analytics and Exchange Online's audit switch. See {@link VerifyConfig.callerCredential}
 * for how the choice is made.
 */
export function createCallerCredential(
  config: VerifyConfig,
  appCredential: TokenCredential,
): CallerCredential {
  const spec = config.callerCredential;
  switch (spec.kind) {
    case "app":
      return { credential: appCredential, description: "the app's own credential" };
    case "verify-env":
      return {
        credential: createClientCredential({
          tenantId: spec.tenantId,
          clientId: spec.clientId,
          authorityHost: config.authorityHost,
          credential: { kind: "secret", clientSecret: spec.secret.reveal() },
        }),
        description: `AZURE_VERIFY_CLIENT_ID ${spec.clientId}`,
      };
    case "default":
      return {
        // Graph reads happen in the Microsoft 365 tenant, which may differ from the caller's
        // home tenant (the workspace's); tokens name the tenant per request.
        credential: new DefaultAzureCredential({ additionallyAllowedTenants: ["*"] }),
        description: "DefaultAzureCredential",
      };
  }
}
