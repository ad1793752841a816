/**
 * Probe of check 4: reads the tenant's unified audit log switch (`Get-AdminAuditLogConfig` →
 * `UnifiedAuditLogIngestionEnabled`) with the caller's credential, through the same Exchange
 * Online admin client `npm run audit-logging` uses. Bounded like verify's other probes: a caller
 * without the right role must cost seconds, not the client's two-minute default.
 * https://learn.microsoft.com/en-us/purview/audit-log-enable-disable
 */
import type { TokenCredential } from "@azure/identity";
import { INTERACTIVE_RETRY_PRESET } from "../../../collector/src/source/retryPolicy";
import { ExchangeAdminClient } from "../../audit-logging/exchangeAdmin";
import type { VerifyConfig } from "../inputs";
import type { ProbeOptions } from "./management";

/** What check 4 learned about the switch itself. */
export type AuditSwitchReading =
  /** Get-AdminAuditLogConfig answered. */
  | { kind: "read"; enabled: boolean }
  /** The caller could not read it (no role, token refused, endpoint unreachable …). */
  | { kind: "unreadable"; error: unknown }
  /** Not tried; `why` says for the report. */
  | { kind: "not-read"; why: string };

/** Why the switch is not read for a config, or undefined when it is. */
export function switchNotReadReason(config: VerifyConfig): string | undefined {
  return config.readAuditSwitch
    ? undefined
    : "--authority-host is not Microsoft's and no --exchange-endpoint was given";
}

/** Options of {@link readAuditSwitch}. */
export interface AuditSwitchProbeOptions extends ProbeOptions {
  /** The read gives up after this long; default the interactive preset's deadline. */
  timeoutInMs?: number;
}

/** Reads the switch; never throws (an error becomes an `unreadable` reading). */
export async function readAuditSwitch(
  config: VerifyConfig,
  credential: TokenCredential,
  options: AuditSwitchProbeOptions = {},
): Promise<AuditSwitchReading> {
  const why = switchNotReadReason(config);
  if (why !== undefined) return { kind: "not-read", why };
  const client = new ExchangeAdminClient({
    endpoint: config.exchangeEndpoint,
    audience: config.exchangeAudience,
    tenantId: config.tenantId,
    credential,
    maxAttempts: INTERACTIVE_RETRY_PRESET.maxAttempts,
    deadlineInMs: INTERACTIVE_RETRY_PRESET.deadlineInMs,
    retryBaseDelayInMs: INTERACTIVE_RETRY_PRESET.retryBaseDelayInMs,
  });
  // A hanging endpoint must leave check 4 time to fall back to the Management API's answer.
  const bound = AbortSignal.timeout(options.timeoutInMs ?? INTERACTIVE_RETRY_PRESET.deadlineInMs);
  const abortSignal = options.abortSignal ? AbortSignal.any([options.abortSignal, bound]) : bound;
  try {
    const { unifiedAuditLogIngestionEnabled } = await client.getAdminAuditLogConfig({
      abortSignal,
    });
    return { kind: "read", enabled: unifiedAuditLogIngestionEnabled };
  } catch (error) {
    return { kind: "unreadable", error };
  }
}
