/**
 * The AuditBridge workbook: what arrives (volume by workload and record type, top operations and
 * users), how late it arrives (ingestion lag by content type), what had to be shortened (records
 * over the 64 KB field limit, marked by the collector with `AuditBridgeTruncation`), and the
 * collector's own health from its JSON log lines in ContainerAppConsoleLogs (the diagnostic
 * setting's resource-specific table).
 *
 * Queries are written against the default table `M365Audit_CL`; {@link bindKql} renames it.
 * Workbook JSON format: https://learn.microsoft.com/en-us/azure/azure-monitor/visualize/workbooks-overview
 */
import { DEFAULT_TABLE_NAME } from "../../domain/table";

/** pino's `name` field in every collector log line (collector/src/log.ts). */
export const COLLECTOR_LOGGER_NAME = "auditbridge-collector";

/** Table the Container Apps environment writes console logs to (the `log-analytics` destination). */
export const CONTAINER_LOGS_TABLE = "ContainerAppConsoleLogs";

type Visualization = "timechart" | "barchart" | "table" | "tiles";

/** One query panel. */
export interface WorkbookQuery {
  key: string;
  title: string;
  visualization: Visualization;
  query: string;
}

const T = DEFAULT_TABLE_NAME;

/** Panels in display order. */
export const WORKBOOK_QUERIES: readonly WorkbookQuery[] = Object.freeze([
  {
    key: "volume-by-workload",
    title: "Records by workload",
    visualization: "timechart",
    query: `${T}
| summarize Records = count() by bin(TimeGenerated, 1h), Workload`,
  },
  {
    key: "volume-by-record-type",
    title: "Records by record type",
    visualization: "timechart",
    query: `${T}
| summarize Records = count() by bin(TimeGenerated, 1h), RecordTypeName`,
  },
  {
    key: "top-operations",
    title: "Top operations",
    visualization: "barchart",
    query: `${T}
| summarize Records = count() by Operation, Workload
| top 20 by Records`,
  },
  {
    key: "top-users",
    title: "Most active users",
    visualization: "table",
    query: `${T}
| where isnotempty(UserId)
| summarize Records = count(), Operations = dcount(Operation), Workloads = make_set(Workload) by UserId
| top 20 by Records`,
  },
  {
    key: "ingestion-lag",
    title: "Ingestion lag by content type (minutes)",
    visualization: "table",
    // TimeGenerated is the record's CreationTime unless Log Analytics replaced it (records over 2 days
    // old); the record's own time in AuditData keeps the end-to-end lag honest for those too.
    query: `${T}
| extend Lag = ingestion_time() - TimeGenerated, EndToEnd = ingestion_time() - todatetime(AuditData.CreationTime), Publishing = ContentCreated - todatetime(AuditData.CreationTime)
| summarize Records = count(),
    LagP50 = percentile(Lag / 1m, 50), LagP95 = percentile(Lag / 1m, 95), LagMax = max(Lag / 1m),
    EndToEndP95 = percentile(EndToEnd / 1m, 95), PublishingP95 = percentile(Publishing / 1m, 95)
    by ContentType
| order by ContentType asc`,
  },
  {
    key: "ingestion-lag-over-time",
    title: "95th percentile ingestion lag over time (minutes)",
    visualization: "timechart",
    query: `${T}
| extend Lag = ingestion_time() - TimeGenerated
| summarize LagP95 = percentile(Lag / 1m, 95) by bin(TimeGenerated, 1h), ContentType`,
  },
  {
    key: "truncated-records",
    title: "Records shortened to fit the 64 KB field limit",
    visualization: "table",
    query: `${T}
| where isnotnull(AuditData.AuditBridgeTruncation)
| extend Truncation = AuditData.AuditBridgeTruncation
| project TimeGenerated, RecordId, RecordTypeName, Operation, Workload,
    OriginalBytes = tolong(Truncation.originalBytes), Method = tostring(Truncation.method),
    ShortenedFields = array_length(Truncation.fields) + coalesce(toint(Truncation.moreFields), 0)
| order by TimeGenerated desc`,
  },
  {
    key: "collector-log-levels",
    title: "Collector log lines by level",
    visualization: "timechart",
    query: `${CONTAINER_LOGS_TABLE}
| extend Entry = parse_json(Log)
| where tostring(Entry.name) == "${COLLECTOR_LOGGER_NAME}"
| summarize Lines = count() by bin(TimeGenerated, 1h), Level = tostring(Entry.level)`,
  },
  {
    key: "collector-errors",
    title: "Collector warnings and errors",
    visualization: "table",
    query: `${CONTAINER_LOGS_TABLE}
| extend Entry = parse_json(Log)
| where tostring(Entry.name) == "${COLLECTOR_LOGGER_NAME}"
| extend Level = tostring(Entry.level)
| where Level in ("warn", "error", "fatal")
| project TimeGenerated, ContainerAppName, RevisionName, Level, Message = tostring(Entry.msg), Error = tostring(Entry.err)
| order by TimeGenerated desc
| take 200`,
  },
] satisfies WorkbookQuery[]);

/** Notebook/1.0 item types (workbook JSON). */
const ITEM_TEXT = 1;
const ITEM_QUERY = 3;
const ITEM_PARAMETERS = 9;
/** Log Analytics workspace query. */
const QUERY_TYPE_LOGS = 0;
const TIME_RANGE_PARAMETER = 4;
const DEFAULT_TIME_RANGE_MS = 86_400_000;

/**
 * The workbook's serialized JSON for a workspace: a time range parameter, then one panel per query,
 * each scoped to the workspace through `crossComponentResources`.
 */
export function workbookJson(
  queries: readonly WorkbookQuery[],
  workspaceResourceId: string,
  title = "AuditBridge: Microsoft 365 audit pipeline",
): string {
  const items: unknown[] = [
    {
      type: ITEM_TEXT,
      name: "title",
      content: {
        json: `## ${title}\nRecords the AuditBridge collector delivered, how late they arrived, which had to be shortened, and the collector's own health.`,
      },
    },
    {
      type: ITEM_PARAMETERS,
      name: "parameters",
      content: {
        version: "KqlParameterItem/1.0",
        parameters: [
          {
            id: "time-range",
            version: "KqlParameterItem/1.0",
            name: "TimeRange",
            type: TIME_RANGE_PARAMETER,
            isRequired: true,
            value: { durationMs: DEFAULT_TIME_RANGE_MS },
            typeSettings: {
              selectableValues: [3_600_000, 14_400_000, 86_400_000, 259_200_000, 604_800_000].map(
                (durationMs) => ({ durationMs }),
              ),
            },
          },
        ],
      },
    },
    ...queries.map((q) => ({
      type: ITEM_QUERY,
      name: q.key,
      content: {
        version: "KqlItem/1.0",
        title: q.title,
        query: q.query,
        size: 0,
        timeContextFromParameter: "TimeRange",
        queryType: QUERY_TYPE_LOGS,
        resourceType: "microsoft.operationalinsights/workspaces",
        crossComponentResources: [workspaceResourceId],
        visualization: q.visualization,
      },
    })),
  ];
  return JSON.stringify({
    version: "Notebook/1.0",
    items,
    fallbackResourceIds: [workspaceResourceId],
    $schema:
      "https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json",
  });
}
