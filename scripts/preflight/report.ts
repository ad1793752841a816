/**
 * The preflight report: its JSON schema (stable, versioned), the exit code it implies and the
 * table a person reads on a terminal. Exit codes and colouring are verify's, shared by every
 * AuditBridge command.
 */
import { exitCodeFor, type OverallStatus } from "../common/output";
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

/** Overall status: the worst check status, where `skip` counts as a pass. */
export function preflightStatus(checks: readonly PreflightCheckResult[]): OverallStatus {
  if (checks.some((c) => c.status === "fail")) return "fail";
  if (checks.some((c) => c.status === "warn")) return "warn";
  return "pass";
}

/** Assembles the report from a run's results. */
export function buildPreflightReport(
  config: PreflightConfig,
  checks: PreflightCheckResult[],
  startedAtMs: number,
  finishedAtMs: number,
): PreflightReport {
  const status = preflightStatus(checks);
  const summary: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const check of checks) summary[check.status]++;
  return {
    schemaVersion: PREFLIGHT_SCHEMA_VERSION,
    command: "preflight",
    status,
    exitCode: exitCodeFor(status),
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

/** `--json` output: one JSON document and a newline. */
export function renderPreflightJson(report: PreflightReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

const ANSI: Record<CheckStatus | "dim" | "bold", [string, string]> = {
  pass: ["\u001b[32m", "\u001b[39m"],
  warn: ["\u001b[33m", "\u001b[39m"],
  fail: ["\u001b[31m", "\u001b[39m"],
  skip: ["\u001b[90m", "\u001b[39m"],
  dim: ["\u001b[2m", "\u001b[22m"],
  bold: ["\u001b[1m", "\u001b[22m"],
};

/** The table: one row per check, then the fixes, then a one-line result. */
export function renderPreflightTable(report: PreflightReport, options: { color: boolean }): string {
  const paint = (style: keyof typeof ANSI, text: string) =>
    options.color ? `${ANSI[style][0]}${text}${ANSI[style][1]}` : text;
  const titleWidth = Math.max(5, ...report.checks.map((c) => c.title.length));
  const lines: string[] = [
    paint(
      "bold",
      `AuditBridge preflight: tenant ${report.tenantId}, subscription ${report.subscriptionId}, ` +
        `resource group ${report.resourceGroup} (${report.location})${report.stack ? `, stack ${report.stack}` : ""}`,
    ),
    "",
    paint("dim", ` #  ${"Check".padEnd(titleWidth)}  Status  Reason`),
  ];
  for (const check of report.checks) {
    const number = String(check.number).padStart(2);
    const status = paint(check.status, check.status.toUpperCase().padEnd(6));
    lines.push(`${number}  ${check.title.padEnd(titleWidth)}  ${status}  ${check.reason}`);
  }
  const fixes = report.checks.filter((c) => c.fix && c.status !== "pass");
  if (fixes.length > 0) {
    lines.push("", paint("bold", "How to fix:"));
    for (const check of fixes) {
      lines.push(
        `${String(check.number).padStart(2)}  ${paint(check.status, check.title)}: ${check.fix}`,
      );
    }
  }
  const { pass, warn, fail, skip } = report.summary;
  const counts = [
    `${fail} failed`,
    `${warn} warning${warn === 1 ? "" : "s"}`,
    `${pass} passed`,
    ...(skip > 0 ? [`${skip} skipped`] : []),
  ].join(", ");
  lines.push(
    "",
    `${paint(report.status, `Result: ${report.status.toUpperCase()}`)} (${counts}) in ${(report.durationMs / 1000).toFixed(1)} s, exit ${report.exitCode}`,
  );
  return `${lines.join("\n")}\n`;
}
