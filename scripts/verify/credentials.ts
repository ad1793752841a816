/**
 * The two identities verify uses: the app's own credential (the path the collector takes to the
 * Management Activity API) and the caller's credential (Graph and the workspace query).
 */
import {
  ClientCertificateCredential,
  ClientSecretCredential,
  DefaultAzureCredential,
  type TokenCredential,
} from "@azure/identity";
import type { VerifyConfig } from "./inputs";

/** The app registration's credential (secret or certificate) against the configured authority. */
export function createAppCredential(config: VerifyConfig): TokenCredential {
  const options = {
    authorityHost: config.authorityHost,
    disableInstanceDiscovery: config.disableInstanceDiscovery,
  };
  const spec = config.appCredential;
  if (spec.kind === "certificate") {
    return new ClientCertificateCredential(
      config.tenantId,
      config.clientId,
      { certificatePath: spec.certificatePath },
      options,
    );
  }
  return new ClientSecretCredential(
    config.tenantId,
    config.clientId,
    spec.secret.reveal(),
    options,
  );
}

/** A caller credential plus a short description for the report (never a secret). */
export interface CallerCredential {
  credential: TokenCredential;
  /** e.g. "the app's own credential" or "DefaultAzureCredential". */
  description: string;
}

/**
 * The caller's credential for Graph and Log Analytics. See {@link VerifyConfig.callerCredential}
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
        credential: new ClientSecretCredential(spec.tenantId, spec.clientId, spec.secret.reveal(), {
          authorityHost: config.authorityHost,
          disableInstanceDiscovery: config.disableInstanceDiscovery,
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
