/**
 * The preflight report: its JSON schema (stable, versioned), the exit code it implies and the
 * table a person reads on a terminal. Exit codes and colouring are verify's, shared by every
 * AuditBridge command.
 */
import { type OverallStatus, renderChecksTable, summarizeChecks } from "../common/output";
import type { PreflightConfig } from "./inputs";
import type { CheckStatus, PreflightCheckResult } from "./result";

/** Bumped only on a breaking change to {@link PreflightReport}. */
export const PREFLIGHT_SCHEMA_VERSION = 1;

/** What `--json` prints. Fields are only ever added within one schema version. */
export interface PreflightReport {
  schemaVersion: typeof PREFLIGHT_SCHEMA_VERSION;
  command: "preflight";
  status: OverallStatus;
  exitCode: number;
  stack: string | null;
  tenantId: string;
  azureTenantId: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  keyVaultName: string;
  cloud: string;
  /** ISO-8601 UTC. */
  startedAt: string;
  durationMs: number;
  summary: Record<CheckStatus, number>;
  checks: PreflightCheckResult[];
}

/** Assembles the report from a run's results. */
export function buildPreflightReport(
  config: PreflightConfig,
  checks: PreflightCheckResult[],
  startedAtMs: number,
  finishedAtMs: number,
): PreflightReport {
  const { status, exitCode, summary } = summarizeChecks(checks);
  return {
    schemaVersion: PREFLIGHT_SCHEMA_VERSION,
    command: "preflight",
    status,
    exitCode,
    stack: config.stack,
    tenantId: config.tenantId,
    azureTenantId: config.azureTenantId,
    subscriptionId: config.subscriptionId,
    resourceGroup: config.resourceGroup,
    location: config.location,
    keyVaultName: config.keyVaultName,
    cloud: config.cloud,
    startedAt: new Date(startedAtMs).toISOString(),
    durationMs: Math.max(0, finishedAtMs - startedAtMs),
    summary,
    checks,
  };
}

/** The table: one row per check, then the fixes, then a one-line result. */
export function renderPreflightTable(report: PreflightReport, options: { color: boolean }): string {
  return renderChecksTable(
    report,
    `AuditBridge preflight: tenant ${report.tenantId}, subscription ${report.subscriptionId}, ` +
      `resource group ${report.resourceGroup} (${report.location})${report.stack ? `, stack ${report.stack}` : ""}`,
    options,
  );
}
