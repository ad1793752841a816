/**
 * Probe of check 7: rows per content type in the workspace's AuditBridge table, with the
 * caller's credential: through the Azure SDK's Log Analytics query client for an Analytics
 * table, through the `/search` API for a Basic one.
 */
import type { TokenCredential } from "@azure/identity";
import { LogsQueryClient, LogsQueryResultStatus, type LogsTable } from "@azure/monitor-query-logs";
import { scopeFor } from "../../../domain/clouds";
import { AuditBridgeError } from "../../../domain/errors";
import { DEFAULT_TABLE_NAME, type TablePlan } from "../../../domain/table";
import type { VerifyConfig } from "../inputs";

/**
 * The workspace query check 7 runs (the emulator supports exactly these shapes). One table,
 * one aggregation, no join and no function, so it also runs on a Basic table; there the time
 * range goes in the request, not in the query:
 * https://learn.microsoft.com/azure/azure-monitor/logs/basic-logs-query
 */
export function recordsQuery(sinceHours: number, plan: TablePlan = "Analytics"): string {
  const summary =
    "summarize Rows = count(), Newest = max(TimeGenerated), NewestIngested = max(ingestion_time()) by ContentType";
  return plan === "Basic"
    ? `${DEFAULT_TABLE_NAME} | ${summary}`
    : `${DEFAULT_TABLE_NAME} | where TimeGenerated > ago(${sinceHours}h) | ${summary}`;
}

/** A refused or failed `/search` call: the HTTP status and the API's error code. */
export class WorkspaceSearchError extends AuditBridgeError {
  override readonly name: string = "WorkspaceSearchError";
  readonly statusCode: number;
  constructor(message: string, statusCode: number, code?: string) {
    super(message, code === undefined ? {} : { code });
    this.statusCode = statusCode;
  }
}

/** One row of {@link recordsQuery}'s answer; times in epoch ms. */
export interface WorkspaceRow {
  contentType: string;
  rows: number;
  newest: number | null;
  newestIngested: number | null;
}

/** The query's rows, and the service's message when it returned only part of them. */
export interface WorkspaceAnswer {
  rows: WorkspaceRow[];
  partial: string | null;
}

/** A result table as `/query` and `/search` return it on the wire. */
interface WireTable {
  columns: { name: string; type: string }[];
  rows: unknown[][];
}

function readWorkspaceTable(
  table: Pick<LogsTable, "rows"> & { columnDescriptors: { name?: string }[] },
): WorkspaceRow[] {
  const index = (name: string) => table.columnDescriptors.findIndex((c) => c.name === name);
  const [ct, rows, newest, ingested] = ["ContentType", "Rows", "Newest", "NewestIngested"].map(
    index,
  );
  const toMs = (value: unknown): number | null => {
    if (value instanceof Date) return value.getTime();
    if (typeof value === "string") {
      const t = Date.parse(value);
      return Number.isFinite(t) ? t : null;
    }
    return null;
  };
  return table.rows.map((row) => ({
    contentType: String(row[ct ?? -1] ?? ""),
    rows: Number(row[rows ?? -1] ?? 0),
    newest: toMs(row[newest ?? -1]),
    newestIngested: toMs(row[ingested ?? -1]),
  }));
}

/** Options of the workspace probe. */
export interface QueryWorkspaceOptions {
  abortSignal?: AbortSignal;
}

/**
 * Runs {@link recordsQuery} over a Basic table: `POST {endpoint}/v1/workspaces/{id}/search` with
 * the time range as `?timespan=`, as Microsoft documents for Basic tables
 * (https://learn.microsoft.com/azure/azure-monitor/logs/basic-logs-query). Written with `fetch`
 * because the Azure SDK's LogsQueryClient only calls `/query`; the answer has `/query`'s shape.
 */
async function searchWorkspace(
  config: VerifyConfig,
  credential: TokenCredential,
  options: QueryWorkspaceOptions,
): Promise<WorkspaceAnswer> {
  const token = await credential.getToken(scopeFor(config.logAnalyticsAudience), {
    abortSignal: options.abortSignal,
  });
  if (!token) throw new WorkspaceSearchError("no Log Analytics token for the caller", 401);
  const url = `${config.logAnalyticsEndpoint}/v1/workspaces/${encodeURIComponent(config.workspaceId ?? "")}/search?timespan=PT${config.sinceHours}H`;
  const response = await fetch(url, {
    method: "POST",
    headers: { Authorization: `Bearer ${token.token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ query: recordsQuery(config.sinceHours, "Basic") }),
    ...(options.abortSignal ? { signal: options.abortSignal } : {}),
  });
  let body: {
    tables?: WireTable[];
    error?: { code?: string; message?: string; innererror?: { message?: string } };
  };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new WorkspaceSearchError(
      `the /search API answered ${response.status} without JSON`,
      response.status,
    );
  }
  if (!response.ok) {
    const detail = body.error?.innererror?.message ?? body.error?.message ?? "no message";
    throw new WorkspaceSearchError(detail, response.status, body.error?.code);
  }
  const table = body.tables?.[0];
  return {
    rows: table
      ? readWorkspaceTable({
          columnDescriptors: table.columns,
          rows: table.rows as LogsTable["rows"],
        })
      : [],
    partial: body.error ? (body.error.message ?? "partial result") : null,
  };
}

/** Runs {@link recordsQuery} against the configured workspace, as its table plan requires. */
export async function queryWorkspace(
  config: VerifyConfig,
  credential: TokenCredential,
  options: QueryWorkspaceOptions = {},
): Promise<WorkspaceAnswer> {
  if (config.tablePlan === "Basic") return searchWorkspace(config, credential, options);
  const client = new LogsQueryClient(credential, {
    endpoint: `${config.logAnalyticsEndpoint}/v1`,
    audience: config.logAnalyticsAudience,
    credentials: { scopes: [scopeFor(config.logAnalyticsAudience)] },
    retryOptions: { maxRetries: 1 },
  });
  const response = await client.queryWorkspace(
    config.workspaceId ?? "",
    recordsQuery(config.sinceHours),
    { duration: `PT${config.sinceHours}H` },
    { abortSignal: options.abortSignal },
  );
  if (response.status === LogsQueryResultStatus.Success) {
    return {
      rows: response.tables[0] ? readWorkspaceTable(response.tables[0]) : [],
      partial: null,
    };
  }
  return {
    rows: response.partialTables[0] ? readWorkspaceTable(response.partialTables[0]) : [],
    partial: response.partialError.message ?? "partial result",
  };
}
