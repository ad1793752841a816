/**
 * Probe of check 7: rows per content type in the workspace's AuditBridge table, with the
 * caller's credential through the Azure SDK's Log Analytics query client.
 */
import type { TokenCredential } from "@azure/identity";
import { LogsQueryClient, LogsQueryResultStatus, type LogsTable } from "@azure/monitor-query-logs";
import { scopeFor } from "../../../domain/clouds";
import { DEFAULT_TABLE_NAME } from "../../../domain/table";
import type { VerifyConfig } from "../inputs";

/** The workspace query check 7 runs (the emulator supports exactly this shape). */
export function recordsQuery(sinceHours: number): string {
  return `${DEFAULT_TABLE_NAME} | where TimeGenerated > ago(${sinceHours}h) | summarize Rows = count(), Newest = max(TimeGenerated), NewestIngested = max(ingestion_time()) by ContentType`;
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

function readWorkspaceTable(table: LogsTable): WorkspaceRow[] {
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

/** Runs {@link recordsQuery} against the configured workspace. */
export async function queryWorkspace(
  config: VerifyConfig,
  credential: TokenCredential,
  options: QueryWorkspaceOptions = {},
): Promise<WorkspaceAnswer> {
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
