/**
 * What the user commands print: a report of checks, its JSON schema (stable, versioned), the
 * exit code it implies, and the table a person reads on a terminal.
 */

/** Outcome of one check. `skip` means it could not run (the reason says why); it never fails a run. */
export type CheckStatus = "pass" | "warn" | "fail" | "skip";

/** The result of one check. `reason` and `fix` are single lines; `fix` is null on a pass. */
export interface CheckResult<Id extends string = string> {
  /** Stable identifier (part of the JSON schema). */
  id: Id;
  /** 1-based position in the command's table. */
  number: number;
  title: string;
  status: CheckStatus;
  reason: string;
  fix: string | null;
  details?: Record<string, unknown>;
}

/** Who and what a report is about (a command's validated config satisfies it). */
export interface ReportSubject {
  readonly tenantId: string;
  readonly clientId: string;
  readonly cloud: string;
  readonly stack: string | null;
}

/** Bumped only on a breaking change to {@link VerifyReport}. */
export const REPORT_SCHEMA_VERSION = 1;

/** Exit codes of the user commands (documented in README.md, "Output and exit codes"). */
export const EXIT_PASS = 0;
export const EXIT_FAIL = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_WARN = 3;

/** Overall outcome: the worst check status, where `skip` counts as a pass. */
export type OverallStatus = "pass" | "warn" | "fail";

/** What `--json` prints. Fields are only ever added within one schema version. */
export interface VerifyReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  status: OverallStatus;
  exitCode: number;
  tenantId: string;
  clientId: string;
  cloud: string;
  stack: string | null;
  /** ISO-8601 UTC. */
  startedAt: string;
  durationMs: number;
  summary: Record<CheckStatus, number>;
  checks: CheckResult[];
}

/** Overall status of a set of check results. */
export function overallStatus(checks: readonly CheckResult[]): OverallStatus {
  if (checks.some((c) => c.status === "fail")) return "fail";
  if (checks.some((c) => c.status === "warn")) return "warn";
  return "pass";
}

/** 0 all pass, 1 any fail, 3 only warnings. */
export function exitCodeFor(status: OverallStatus): number {
  return status === "fail" ? EXIT_FAIL : status === "warn" ? EXIT_WARN : EXIT_PASS;
}

/** The part of every command's report that its checks decide. */
export interface ChecksOutcome {
  status: OverallStatus;
  exitCode: number;
  summary: Record<CheckStatus, number>;
}

/** Status, exit code and counts of a set of check results. */
export function summarizeChecks(checks: readonly CheckResult[]): ChecksOutcome {
  const status = overallStatus(checks);
  const summary: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const check of checks) summary[check.status]++;
  return { status, exitCode: exitCodeFor(status), summary };
}

/** Assembles the report from a run's results. */
export function buildReport(
  config: ReportSubject,
  checks: CheckResult[],
  startedAtMs: number,
  finishedAtMs: number,
): VerifyReport {
  const { status, exitCode, summary } = summarizeChecks(checks);
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    status,
    exitCode,
    tenantId: config.tenantId,
    clientId: config.clientId,
    cloud: config.cloud,
    stack: config.stack,
    startedAt: new Date(startedAtMs).toISOString(),
    durationMs: Math.max(0, finishedAtMs - startedAtMs),
    summary,
    checks,
  };
}

/** `--json` output: one JSON document and a newline. */
export function renderJson(report: object): string {
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

/** Whether to colour: only on a TTY and only when NO_COLOR is unset (https://no-color.org). */
export function shouldColor(
  stream: { isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === "");
}

/** What the table needs of any command's report. */
export interface TableReport extends ChecksOutcome {
  checks: readonly CheckResult[];
  durationMs: number;
}

/**
 * The human-readable table of any command's report: a heading, one row per check, then the
 * fixes, then a one-line result.
 */
export function renderChecksTable(
  report: TableReport,
  heading: string,
  options: { color: boolean },
): string {
  const paint = (style: keyof typeof ANSI, text: string) =>
    options.color ? `${ANSI[style][0]}${text}${ANSI[style][1]}` : text;
  const titleWidth = Math.max(5, ...report.checks.map((c) => c.title.length));
  const lines: string[] = [
    paint("bold", heading),
    "",
    paint("dim", ` #  ${"Check".padEnd(titleWidth)}  Status  Reason`),
  ];
  for (const check of report.checks) {
    const status = paint(check.status, check.status.toUpperCase().padEnd(6));
    lines.push(
      `${String(check.number).padStart(2)}  ${check.title.padEnd(titleWidth)}  ${status}  ${check.reason}`,
    );
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

/** verify's table (the heading names the tenant, the app and the cloud). */
export function renderTable(
  report: VerifyReport,
  options: { color: boolean /** Name in the heading; default `verify`. */; command?: string },
): string {
  return renderChecksTable(
    report,
    `AuditBridge ${options.command ?? "verify"}: tenant ${report.tenantId}, app ${report.clientId}, cloud ${report.cloud}${report.stack ? `, stack ${report.stack}` : ""}`,
    options,
  );
}
