/**
 * `audit-logging enable` as `pulumi up` runs it: the stack option `enableAuditLogging` creates an
 * AuditLoggingSwitch (components/auditLogging.ts) whose dynamic provider loads this module at
 * deploy time and calls {@link enableAuditLoggingAtDeploy}. Same logic as the command
 * ({@link auditLoggingEnable}), with the deployer's own credential (DefaultAzureCredential: az
 * login, or AZURE_CLIENT_ID + secret/certificate/OIDC in the environment), and a failure thrown
 * as one error whose message ends with the fix, as Pulumi prints it.
 */
import { DefaultAzureCredential, type TokenCredential } from "@azure/identity";
import { CLOUDS, type CloudName, isMicrosoftAuthorityHost } from "../../domain/clouds";
import { ExchangeAdminClient } from "./exchangeAdmin";
import { type AuditLoggingResult, auditLoggingEnable } from "./run";

/** What the deploy-time switch needs; the resource's inputs. */
export interface DeployEnableOptions {
  tenantId: string;
  cloud: CloudName;
  /** Exchange Online's admin endpoint; default: the cloud's. */
  exchangeEndpoint?: string;
  /** Entra ID login host; default: AZURE_AUTHORITY_HOST, else the cloud's. */
  authorityHost?: string;
  /** Tests pass one; otherwise the deployer's DefaultAzureCredential. */
  credential?: TokenCredential;
  /** Base of the Exchange client's retry backoff; tests shorten it. */
  retryBaseDelayInMs?: number;
  abortSignal?: AbortSignal;
}

/** The switch could not be turned on; the message says why and what to do. */
export class AuditLoggingDeployError extends Error {
  override readonly name = "AuditLoggingDeployError";
  constructor(readonly result: AuditLoggingResult) {
    super(
      `unified audit logging could not be turned on: ${result.message}${result.fix ? `; next: ${result.fix}` : ""}`,
    );
  }
}

/** The deployer's credential, as `pulumi up` has it. */
export function deployerCredential(tenantId: string, authorityHost: string): TokenCredential {
  return new DefaultAzureCredential({
    tenantId,
    authorityHost,
    // Instance discovery only knows Microsoft's own login hosts.
    disableInstanceDiscovery: !isMicrosoftAuthorityHost(authorityHost),
  });
}

/**
 * Turns unified audit logging on (nothing when it already is) and returns what happened.
 * Throws {@link AuditLoggingDeployError} when the switch is not on afterwards.
 */
export async function enableAuditLoggingAtDeploy(
  options: DeployEnableOptions,
): Promise<AuditLoggingResult> {
  const cloud = CLOUDS[options.cloud];
  const authorityHost = (
    options.authorityHost ??
    process.env.AZURE_AUTHORITY_HOST ??
    cloud.authorityHost
  ).replace(/\/+$/, "");
  const credential = options.credential ?? deployerCredential(options.tenantId, authorityHost);
  const result = await auditLoggingEnable({
    tenantId: options.tenantId,
    cloud: cloud.name,
    exchange: new ExchangeAdminClient({
      endpoint: options.exchangeEndpoint ?? cloud.exchangeEndpoint,
      audience: cloud.exchangeEndpoint,
      tenantId: options.tenantId,
      credential,
      ...(options.retryBaseDelayInMs !== undefined
        ? { retryBaseDelayInMs: options.retryBaseDelayInMs }
        : {}),
    }),
    // enable never asks the Management Activity API.
    probeManagementApi: async () => "unknown",
    // Pulumi shows a dynamic provider's stderr only on failure; the result carries the outcome.
    progress: () => {},
    ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
  });
  if (result.exitCode !== 0) throw new AuditLoggingDeployError(result);
  return result;
}
