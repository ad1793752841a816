/**
 * docs/table.md: the Log Analytics table's columns and the RecordType names, rendered from the
 * schema every part uses (domain/table.ts, domain/records.ts).
 */

import { RECORD_TYPE_NAMES } from "../../domain/records";
import { DEFAULT_STREAM_NAME, DEFAULT_TABLE_NAME, TABLE_COLUMNS } from "../../domain/table";
import { markdownTable } from "./lib/markdown";

export const PAGE_PATH = "docs/table.md";

export function render(): string {
  const columns = markdownTable(
    ["column", "type", "description"],
    TABLE_COLUMNS.map((column) => [`\`${column.name}\``, `\`${column.type}\``, column.description]),
  );
  const recordTypes = markdownTable(
    ["RecordType", "RecordTypeName"],
    Object.entries(RECORD_TYPE_NAMES)
      .map(([value, name]) => [Number(value), name] as const)
      .sort(([a], [b]) => a - b)
      .map(([value, name]) => [String(value), `\`${name}\``]),
  );
  const lines = [
    "<!-- Generated from domain/table.ts and domain/records.ts by docs/gen/tableFields.ts. Do not edit: run `npm run docs`. -->",
    "",
    "# The Log Analytics table",
    "",
    `The collector's \`logs-ingestion\` sink writes one row per audit record to the custom table \`${DEFAULT_TABLE_NAME}\``,
    "(the stack setting `tableName` picks another name; it must end in `_CL`) through the data",
    `collection rule's stream \`${DEFAULT_STREAM_NAME}\`. The Pulumi program declares the table and the`,
    "stream from the same column list the collector's row mapping uses, and the rule's",
    "transformation is a plain projection of these columns, so the three cannot drift apart.",
    "",
    "## Columns",
    "",
    `${TABLE_COLUMNS.length} columns, in table order. \`id\` and \`TenantId\` are reserved column names in`,
    "Log Analytics, hence `RecordId` and `OrganizationId`. `AuditData` holds the whole record as",
    "received; a record whose JSON is over the 64 KB field limit is shortened in a marked way, never",
    "silently (see [the 64 KB field limit](collector.md#the-64-kb-field-limit)).",
    "",
    ...columns,
    "",
    "Record fields follow the Management Activity API's common schema:",
    "https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-schema",
    "",
    "## RecordType names",
    "",
    "`RecordTypeName` is the name of the record's `RecordType` value (a number; some records carry it",
    "as a string, which is read as the number). A value not listed here becomes `Unknown(<n>)`, and a",
    "value that is not a whole number becomes `Unknown`. Microsoft keeps adding record types; an",
    "unlisted number is still kept in `RecordType`.",
    "",
    ...recordTypes,
    "",
    "## Queries",
    "",
    "```kusto",
    `${DEFAULT_TABLE_NAME}`,
    "| where TimeGenerated > ago(24h)",
    "| summarize Rows = count(), Newest = max(TimeGenerated) by ContentType, RecordTypeName",
    "```",
    "",
    "Rows whose `AuditData` was shortened to fit the field limit:",
    "",
    "```kusto",
    `${DEFAULT_TABLE_NAME} | where isnotempty(AuditData.AuditBridgeTruncation)`,
    "```",
  ];
  return `${lines.join("\n")}\n`;
}
