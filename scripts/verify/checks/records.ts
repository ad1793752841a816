/**
 * Check 7: audit records reach their destination. For the Logs Ingestion sink, rows in the
 * workspace for every type the API lists, without a long lag; for sinks verify cannot query,
 * the collector's delivery counters on `/healthz`; for a scheduled collector, also the job's
 * executions; for no collector of ours (bring your own SIEM), nothing: the SIEM is checked there.
 */

import { DEFAULT_TABLE_NAME } from "../../../domain/table";
import type { CheckStatus } from "../../common/output";
import { describeQueryError } from "../explain";
import type { VerifyConfig } from "../inputs";
import type { HealthzProbe } from "../probes/healthz";
import type { JobAnswer } from "../probes/job";
import type { WorkspaceAnswer } from "../probes/workspace";
import { judgeHealthzDelivery, judgeJobRuns, type PartVerdict } from "./collectorRuns";
import { type ContentOutcome, newestCreated } from "./content";
import { formatAge, result, type Settled, type VerifyCheckResult } from "./result";

/** What check 7 reports for collector none: the SIEM is where records are checked. */
export const COLLECTOR_NONE_REASON =
  "skipped: collector none — verify cannot see your SIEM: search it for Office 365 audit records of the last hours (for example Azure AD sign-ins, Audit.AzureActiveDirectory) and check its Office 365 connector's health page";

const SEVERITY: Readonly<Record<CheckStatus, number>> = { pass: 0, skip: 1, warn: 2, fail: 3 };

/** One check result from several parts: the worst status, every reason, the fixes that apply. */
function merge(parts: readonly PartVerdict[]): VerifyCheckResult {
  const status = parts.reduce<CheckStatus>(
    (worst, part) => (SEVERITY[part.status] > SEVERITY[worst] ? part.status : worst),
    "pass",
  );
  const fixes = parts.filter((part) => part.status !== "pass" && part.fix).map((part) => part.fix);
  const details = Object.assign({}, ...parts.map((part) => part.details)) as Record<
    string,
    unknown
  >;
  return result(
    "records",
    status,
    parts.map((part) => part.reason).join("; "),
    fixes.length > 0 ? fixes.join("; then ") : null,
    details,
  );
}

function part(check: VerifyCheckResult): PartVerdict {
  return {
    status: check.status,
    reason: check.reason,
    fix: check.fix,
    details: check.details ?? {},
  };
}

/**
 * Check 7 warns when the workspace's newest ingestion trails the API's newest content by more
 * than this. The collector polls every 60 s by default and new rows take minutes to show in
 * Log Analytics, so an hour means the collector is stuck or far behind.
 */
export const MAX_INGESTION_LAG_IN_MS = 60 * 60 * 1000;

/**
 * Judges check 7 for the configured collector (see the module comment). `healthz` is probed
 * only for an always-on collector; `job` only for a scheduled one. Pure.
 */
export function judgeRecords(
  config: VerifyConfig,
  workspace: Settled<WorkspaceAnswer> | null,
  content: ContentOutcome[] | null,
  healthz: HealthzProbe | null,
  now: number,
  job: Settled<JobAnswer> | null = null,
): VerifyCheckResult {
  const setup = config.collector;
  if (setup.kind === "none") {
    return result(
      "records",
      "skip",
      COLLECTOR_NONE_REASON,
      "check records in the SIEM itself; checks 1-6 cover the app registration its connector signs in with",
      { collector: "none" },
    );
  }
  const toWorkspace = setup.sinks.includes("logs-ingestion");
  const elsewhere = setup.sinks.filter((sink) => sink !== "logs-ingestion");
  if (setup.kind === "always-on") {
    if (toWorkspace) return judgeWorkspaceRows(config, workspace, content, healthz, now);
    return merge([judgeHealthzDelivery(healthz, elsewhere, now)]);
  }
  // Scheduled: a job has no endpoint; its executions stand in for /healthz.
  const runs = judgeJobRuns(setup.job, job, now);
  if (!toWorkspace) {
    return merge([
      runs,
      {
        status: "pass",
        reason: `records go to ${elsewhere.join(", ")}, which verify cannot query: check them there`,
        fix: null,
        details: { sinks: elsewhere },
      },
    ]);
  }
  return merge([part(judgeWorkspaceRows(config, workspace, content, null, now)), runs]);
}

/**
 * Judges the workspace's rows: some in the window, none missing for a type the API lists, the
 * newest not far behind the API's newest content; `/healthz` is shown as context.
 */
function judgeWorkspaceRows(
  config: VerifyConfig,
  workspace: Settled<WorkspaceAnswer> | null,
  content: ContentOutcome[] | null,
  healthz: HealthzProbe | null,
  now: number,
): VerifyCheckResult {
  const healthzNote = healthz ? `; ${healthz.text}` : "";
  const healthzDetails = healthz ? { healthz: healthz.text } : {};
  if (!workspace) {
    return result(
      "records",
      healthz && !healthz.ok ? "warn" : "skip",
      `no workspace id, so the workspace was not queried${healthzNote}`,
      "pass --workspace-id <guid> (the workspace's customer id) or use --stack",
      healthzDetails,
    );
  }
  if (!workspace.ok) {
    const described = describeQueryError(workspace.error, config);
    return result(
      "records",
      "fail",
      `${described.reason}${healthzNote}`,
      described.fix,
      healthzDetails,
    );
  }
  const rows = workspace.value.rows;
  const total = rows.reduce((sum, r) => sum + r.rows, 0);
  const perType = Object.fromEntries(
    rows.map((r) => [
      r.contentType,
      {
        rows: r.rows,
        newest: r.newest === null ? null : new Date(r.newest).toISOString(),
        newestIngested: r.newestIngested === null ? null : new Date(r.newestIngested).toISOString(),
      },
    ]),
  );
  const newestIngested = rows.reduce<number | null>(
    (max, r) =>
      r.newestIngested !== null && (max === null || r.newestIngested > max)
        ? r.newestIngested
        : max,
    null,
  );
  const newestRow = rows.reduce<number | null>(
    (max, r) => (r.newest !== null && (max === null || r.newest > max) ? r.newest : max),
    null,
  );
  const apiNewest = (content ?? []).reduce<number | null>((max, c) => {
    const n = c.listing.ok ? newestCreated(c.listing.value) : null;
    return n !== null && (max === null || n > max) ? n : max;
  }, null);
  const lagMs =
    apiNewest !== null && newestIngested !== null ? Math.max(0, apiNewest - newestIngested) : null;
  const details: Record<string, unknown> = {
    table: DEFAULT_TABLE_NAME,
    sinceHours: config.sinceHours,
    rows: total,
    newestTimeGenerated: newestRow === null ? null : new Date(newestRow).toISOString(),
    newestIngested: newestIngested === null ? null : new Date(newestIngested).toISOString(),
    apiNewestContentCreated: apiNewest === null ? null : new Date(apiNewest).toISOString(),
    ingestionLagMinutes: lagMs === null ? null : Math.round(lagMs / 60_000),
    contentTypes: perType,
    ...healthzDetails,
  };
  if (total === 0) {
    return result(
      "records",
      "fail",
      `no ${DEFAULT_TABLE_NAME} rows in the last ${config.sinceHours} h${healthzNote}`,
      "start the collector with AUDIT_SINK=logs-ingestion (`npm run collector -- run --once`) and check its Monitoring Metrics Publisher role on the DCR (takes up to 30 min to apply; new tables show data after 10–15 min)",
      details,
    );
  }
  const summary = `${total} rows in the last ${config.sinceHours} h, newest ingested ${formatAge(now - (newestIngested ?? now))} ago`;
  const warnings: string[] = [];
  if (lagMs !== null && lagMs > MAX_INGESTION_LAG_IN_MS) {
    warnings.push(`the workspace trails the API's newest content by ${formatAge(lagMs)}`);
  }
  const present = new Set(rows.filter((r) => r.rows > 0).map((r) => r.contentType.toLowerCase()));
  const missingTypes = (content ?? [])
    .filter(
      (c) =>
        c.listing.ok && c.listing.value.length > 0 && !present.has(c.contentType.toLowerCase()),
    )
    .map((c) => c.contentType);
  if (missingTypes.length > 0)
    warnings.push(`no rows for ${missingTypes.join(", ")} although the API lists content`);
  if (workspace.value.partial) warnings.push(`partial query result: ${workspace.value.partial}`);
  if (healthz && !healthz.ok) warnings.push(healthz.text);
  if (warnings.length > 0) {
    return result(
      "records",
      "warn",
      `${summary}; ${warnings.join("; ")}`,
      "check the collector's logs and /metrics (is it running, throttled, or failing to deliver?)",
      details,
    );
  }
  return result("records", "pass", `${summary}${healthzNote}`, null, details);
}
