/**
 * `audit-logging status` and `audit-logging enable`: what each does, as functions of a client,
 * so the command line (main.ts) only parses, prints and exits.
 */
import { sleep } from "../../collector/src/backoff";
import type { CloudName } from "../../domain/clouds";
import { EXIT_FAIL, EXIT_PASS } from "../common/output";
import {
  type ExchangeAdminClient,
  type ExchangeAdminErrorCode,
  isExchangeAdminError,
} from "./exchangeAdmin";

/** Version of the `--json` output; bumped when a field changes meaning or goes away. */
export const AUDIT_LOGGING_SCHEMA_VERSION = 1;

/** Turning auditing on takes up to this long to take effect (Microsoft Purview documentation). */
export const EFFECT_DELAY_NOTE =
  "the change takes up to 60 minutes to take effect, and a new Management Activity API subscription up to 12 hours to show its first content";

/** What the Management Activity API says about the tenant, when the caller may ask it. */
export type ManagementProbe =
  /** It answers: auditing is in effect. */
  | "answers"
  /** It answers "tenant does not exist" (DataServiceException): not in effect yet. */
  | "audit-not-provisioned"
  /** The caller cannot ask it (no Management API permission) or it failed otherwise. */
  | "unknown";

/** How the switch is read and set; main.ts passes the real client, tests the same over HTTPS. */
export interface AuditLoggingContext {
  tenantId: string;
  cloud: CloudName;
  exchange: ExchangeAdminClient;
  /** Asks the Management Activity API whether auditing is in effect. */
  probeManagementApi(options: { abortSignal?: AbortSignal }): Promise<ManagementProbe>;
  /** Progress lines for a person (stderr); never data. */
  progress(line: string): void;
  abortSignal?: AbortSignal;
  /** enable: wait this long for a dehydrated tenant's customization to finish (0: don't wait). */
  waitInMs?: number;
  /** enable: how often to look while waiting. */
  pollIntervalInMs?: number;
  nowMs?: () => number;
}

/** The state of the switch, as `status` reports it. */
export type AuditLoggingState = "on" | "enabled-not-yet-effective" | "off";

export interface AuditLoggingFailure {
  code: ExchangeAdminErrorCode;
  message: string;
  fix: string;
}

export interface AuditLoggingResult {
  schemaVersion: number;
  command: "status" | "enable";
  tenantId: string;
  /** The switch as Get-AdminAuditLogConfig reports it; undefined when it could not be read. */
  unifiedAuditLogIngestionEnabled?: boolean;
  state?: AuditLoggingState;
  /** Where the answer came from: always Exchange Online, never Security & Compliance. */
  source: "Get-AdminAuditLogConfig";
  /** enable: whether this run changed the switch. */
  changed?: boolean;
  /** What happened, for a person. */
  message: string;
  /** The next step, when there is one. */
  fix?: string;
  error?: AuditLoggingFailure;
  exitCode: number;
}

/** Exchange Online PowerShell's name for each cloud (`-ExchangeEnvironmentName`). */
const POWERSHELL_ENVIRONMENT: Readonly<Record<CloudName, string>> = {
  commercial: "O365Default",
  gcc: "O365Default",
  gcchigh: "O365USGovGCCHigh",
  dod: "O365USGovDoD",
};

/** The manual step, in Exchange Online PowerShell, for when the admin endpoint cannot be used. */
export function manualEnableStep(cloud: CloudName): string {
  return `Connect-ExchangeOnline -ExchangeEnvironmentName ${POWERSHELL_ENVIRONMENT[cloud]}; Set-AdminAuditLogConfig -UnifiedAuditLogIngestionEnabled $true`;
}

/** The command that turns auditing on, as a user types it. */
function enableCommand(tenantId: string): string {
  return `npm run audit-logging -- enable --tenant-id ${tenantId}`;
}

/** What to do about a failed Exchange admin call. */
export function fixFor(code: ExchangeAdminErrorCode, cloud: CloudName, tenantId: string): string {
  const sovereign = cloud === "gcchigh" || cloud === "dod";
  const manual = `or run in Exchange Online PowerShell: ${manualEnableStep(cloud)}`;
  switch (code) {
    case "unauthorized":
      return `sign in as an Exchange administrator of tenant ${tenantId} (az login --tenant ${tenantId}, or --device-code), or give the app the Exchange.ManageAsApp application permission with admin consent`;
    case "forbidden":
      return "give the caller the Audit Logs role (Exchange admin center > Roles > Admin roles: Organization Management or Compliance Management), or, for an app, Exchange.ManageAsApp plus the Exchange Administrator or Compliance Administrator Entra role";
    case "needs-proxy":
      return `Exchange Online routed the call to a server that cannot run it; try again in a few minutes, ${manual}`;
    case "dehydrated":
      return `run ${enableCommand(tenantId)} --wait 2h (it runs Enable-OrganizationCustomization and waits; that can take from 30 minutes up to 48 hours), ${manual}`;
    case "not-found":
      return sovereign
        ? `Microsoft may not offer Exchange Online's admin endpoint to this cloud (${cloud}); turn auditing on by hand: ${manualEnableStep(cloud)}`
        : `check --exchange-endpoint / EXCHANGE_ADMIN_ENDPOINT and the tenant id, ${manual}`;
    case "unavailable":
    case "failed":
      return sovereign
        ? `Microsoft may not offer Exchange Online's admin endpoint to this cloud (${cloud}); turn auditing on by hand: ${manualEnableStep(cloud)}`
        : `try again in a few minutes, ${manual}`;
  }
}

function failure(
  ctx: AuditLoggingContext,
  command: AuditLoggingResult["command"],
  error: unknown,
  partial: Partial<AuditLoggingResult> = {},
): AuditLoggingResult {
  if (!isExchangeAdminError(error)) throw error;
  const fix = fixFor(error.code, ctx.cloud, ctx.tenantId);
  return {
    schemaVersion: AUDIT_LOGGING_SCHEMA_VERSION,
    command,
    tenantId: ctx.tenantId,
    source: "Get-AdminAuditLogConfig",
    ...partial,
    message: error.message,
    fix,
    error: { code: error.code, message: error.message, fix },
    exitCode: EXIT_FAIL,
  };
}

/**
 * `status`: reads the switch. When it is on, asks the Management Activity API whether it is in
 * effect yet ("enabled, not yet effective" while the API still says the tenant does not exist).
 * Exit 0 when on, 1 when off or unreadable.
 */
export async function auditLoggingStatus(ctx: AuditLoggingContext): Promise<AuditLoggingResult> {
  let enabled: boolean;
  try {
    ({ unifiedAuditLogIngestionEnabled: enabled } = await ctx.exchange.getAdminAuditLogConfig({
      abortSignal: ctx.abortSignal,
    }));
  } catch (error) {
    return failure(ctx, "status", error);
  }
  const base = {
    schemaVersion: AUDIT_LOGGING_SCHEMA_VERSION,
    command: "status" as const,
    tenantId: ctx.tenantId,
    unifiedAuditLogIngestionEnabled: enabled,
    source: "Get-AdminAuditLogConfig" as const,
  };
  if (!enabled) {
    return {
      ...base,
      state: "off",
      message: "unified audit logging is off: the Management Activity API has no content to give",
      fix: enableCommand(ctx.tenantId),
      exitCode: EXIT_FAIL,
    };
  }
  const probe = await ctx.probeManagementApi({ abortSignal: ctx.abortSignal });
  if (probe === "audit-not-provisioned") {
    return {
      ...base,
      state: "enabled-not-yet-effective",
      message: `unified audit logging is enabled, not yet effective: the Management Activity API still answers that the tenant does not exist; ${EFFECT_DELAY_NOTE}`,
      exitCode: EXIT_PASS,
    };
  }
  return {
    ...base,
    state: "on",
    message:
      probe === "answers"
        ? "unified audit logging is on, and the Management Activity API answers for the tenant"
        : "unified audit logging is on (whether it is in effect yet was not checked: the caller cannot read the Management Activity API; npm run verify does)",
    exitCode: EXIT_PASS,
  };
}

/**
 * `enable`: turns the switch on. A dehydrated tenant gets `Enable-OrganizationCustomization`
 * first, and, with `waitInMs`, is watched until it can take the change. Exit 0 when the switch
 * is on afterwards (or already was), 1 with the cause otherwise. Never turns anything off.
 */
export async function auditLoggingEnable(ctx: AuditLoggingContext): Promise<AuditLoggingResult> {
  const options = { abortSignal: ctx.abortSignal };
  const now = ctx.nowMs ?? Date.now;
  const base = {
    schemaVersion: AUDIT_LOGGING_SCHEMA_VERSION,
    command: "enable" as const,
    tenantId: ctx.tenantId,
    source: "Get-AdminAuditLogConfig" as const,
  };
  try {
    const before = await ctx.exchange.getAdminAuditLogConfig(options);
    if (before.unifiedAuditLogIngestionEnabled) {
      return {
        ...base,
        unifiedAuditLogIngestionEnabled: true,
        state: "on",
        changed: false,
        message: "unified audit logging is already on; nothing to change",
        exitCode: EXIT_PASS,
      };
    }
    let dehydrated = (await ctx.exchange.getOrganizationConfig(options)).isDehydrated;
    if (dehydrated) {
      ctx.progress(
        "the tenant is dehydrated: running Enable-OrganizationCustomization (it can take from 30 minutes up to 48 hours)",
      );
      await ctx.exchange.enableOrganizationCustomization(options);
      const deadline = now() + (ctx.waitInMs ?? 0);
      for (;;) {
        dehydrated = (await ctx.exchange.getOrganizationConfig(options)).isDehydrated;
        if (!dehydrated || now() >= deadline) break;
        ctx.progress(
          `still dehydrated; looking again in ${Math.round((ctx.pollIntervalInMs ?? 60_000) / 1000)} s`,
        );
        await sleep(
          Math.min(ctx.pollIntervalInMs ?? 60_000, Math.max(0, deadline - now())),
          ctx.abortSignal,
        );
      }
      if (dehydrated) {
        const fix = `run ${enableCommand(ctx.tenantId)} again later (or now with --wait 2h)`;
        return {
          ...base,
          unifiedAuditLogIngestionEnabled: false,
          state: "off",
          changed: false,
          message:
            "Enable-OrganizationCustomization was started; the tenant is still dehydrated, so auditing could not be turned on yet",
          fix,
          error: { code: "dehydrated", message: "the tenant is still dehydrated", fix },
          exitCode: EXIT_FAIL,
        };
      }
      ctx.progress("organization customization finished");
    }
    ctx.progress("running Set-AdminAuditLogConfig -UnifiedAuditLogIngestionEnabled $true");
    await ctx.exchange.setUnifiedAuditLogIngestionEnabled(options);
    const after = await ctx.exchange.getAdminAuditLogConfig(options);
    if (!after.unifiedAuditLogIngestionEnabled) {
      const fix = fixFor("failed", ctx.cloud, ctx.tenantId);
      return {
        ...base,
        unifiedAuditLogIngestionEnabled: false,
        state: "off",
        changed: false,
        message:
          "Set-AdminAuditLogConfig answered, but Get-AdminAuditLogConfig still reports the switch off",
        fix,
        error: { code: "failed", message: "the switch did not change", fix },
        exitCode: EXIT_FAIL,
      };
    }
    return {
      ...base,
      unifiedAuditLogIngestionEnabled: true,
      state: "enabled-not-yet-effective",
      changed: true,
      message: `unified audit logging turned on; ${EFFECT_DELAY_NOTE}`,
      fix: `check with npm run audit-logging -- status --tenant-id ${ctx.tenantId}`,
      exitCode: EXIT_PASS,
    };
  } catch (error) {
    return failure(ctx, "enable", error, { changed: false });
  }
}
